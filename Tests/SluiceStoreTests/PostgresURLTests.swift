import Foundation
import Testing

@testable import SluiceStore

/// `--postgres URL` is an operator's input: what it may name, and how a bad one is refused.
@Suite struct PostgresURLTests {
    @Test func aURLGivesHostPortUserDatabaseAndSchema() throws {
        let (configuration, schema) = try PostgresURL.configuration(
            "postgres://sluice:p%40ss@db.internal:6543/data?sslmode=disable&schema=team_a", maximumConnections: 3)
        #expect(configuration.host == "db.internal" && configuration.port == 6543)
        #expect(configuration.username == "sluice" && configuration.password == "p@ss" && configuration.database == "data")
        #expect(schema == "team_a")
        #expect(configuration.options.maximumConnections == 3)
        #expect(configuration.options.additionalStartupParameters.contains { $0 == ("search_path", "team_a") })
    }

    @Test(arguments: [
        ("mysql://db/x", "expected a URL like postgres://"),
        ("not a url", "expected a URL like postgres://"),
        ("postgres://db/x?schema=", "schema: expected 1 to 63 of a-z, 0-9 and _"),
        ("postgres://db/x?schema=a%22;DROP", "schema: expected 1 to 63 of a-z, 0-9 and _"),
        ("postgres://db/x?schema=Team", "schema: expected 1 to 63 of a-z, 0-9 and _"),
        ("postgres://db/x?schema=" + String(repeating: "a", count: 64), "schema: expected 1 to 63 of a-z, 0-9 and _"),
    ])
    func aBadURLIsRefusedNamingWhat(url: String, message: String) {
        #expect {
            _ = try PostgresURL.configuration(url, maximumConnections: 1)
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
