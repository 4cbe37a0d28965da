import Hummingbird
import SightglassStore

extension AuditLog {
    /// Records an admin or system action: who, what, on what, from where, with free-form details.
    public func record(
        _ action: String, user: String?, resource: String?, request: Request? = nil, ip: String? = nil,
        details: [String: Any] = [:], level: String = "info", result: String = "success"
    ) {
        record(
            AuditEntry(
                user: user, action: action, resource: resource, level: level, sourceIP: ip,
                userAgent: request?.headers[.userAgent], detailsJSON: JSONResponse.text(JSONValue(details)), result: result))
    }
}
