import SightglassGovernance
import Testing

@testable import SightglassProxy

/// Whom per-user limits count a request against.
@Suite struct LimitedUserTests {
    let head = try! parseRequest("POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nX-User-Id: alice\r\n\r\n")

    @Test func aKeyCountsAgainstItsOwnerWhateverTheHeaderSays() {
        let grant = KeyGrant(keyId: "k", projectId: "p1", ownerId: "user_owner")
        #expect(ClientConnectionHandler.limitedUser(head, grant: grant, header: "x-user-id") == "user_owner")
    }

    @Test func anEndUserAKeyMayNameCountsWithinTheKeysProject() {
        let grant = KeyGrant(keyId: "k", projectId: "p1", ownerId: "user_owner", scopes: KeyScopes(endUser: true))
        #expect(ClientConnectionHandler.limitedUser(head, grant: grant, header: "x-user-id") == "p1/alice")
    }

    @Test func withoutAKeyTheHeaderNamesTheUser() {
        #expect(ClientConnectionHandler.limitedUser(head, grant: nil, header: "x-user-id") == "alice")
    }
}
