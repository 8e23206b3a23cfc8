import Hummingbird
import NIOCore

/// What operators and orchestrators ask a server, outside the versioned API and its keys:
/// `/healthz` (the process answers), `/readyz` (the store answers and is migrated) and
/// `/metrics` (Prometheus' text format). `/health` stays as the older name of `/healthz`.
struct OperationsRoutes {
    let api: APIContext

    func addRoutes(to router: Router<SluiceRequestContext>) {
        let api = self.api
        router.get("/healthz") { _, _ in Response.json(["status": "ok"]) }
        router.get("/health") { _, _ in Response.json(["status": "ok"]) }
        router.get("/readyz") { _, _ in
            do {
                try await api.store.checkReady()
                return Response.json(["status": "ready"])
            } catch {
                var response = Response.json(["status": "not ready", "reason": "\(error)"])
                response.status = .serviceUnavailable
                return response
            }
        }
        router.get("/metrics") { _, _ in
            let bytes = api.metrics.exposition(storeBytes: (try? await api.store.databaseBytes()) ?? 0)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
