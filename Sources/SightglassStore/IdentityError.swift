/// Why an identity change or lookup was refused, in terms the Admin API turns into a status.
public enum IdentityError: Error, Sendable, Equatable {
    /// 404: no such object (`kind` as OpenAI names it: "project", "user", "api_key", …).
    case notFound(kind: String, id: String)
    /// 409 / 400: the change conflicts with what is stored (a name taken, an archived project, the last owner).
    case conflict(String)
    /// 400: a field is missing or wrong.
    case invalid(field: String, message: String)
}
