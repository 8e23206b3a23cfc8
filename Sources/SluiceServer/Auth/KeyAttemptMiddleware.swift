import Hummingbird

/// Applies `KeyAttemptLimiter` to every request that presents a key (an `Authorization`
/// header or a signed media URL): refused while its address is blocked, counted when the key
/// is refused as invalid (401; a request with a key gets 401 for no other reason).
struct KeyAttemptMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let limiter: KeyAttemptLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard request.headers[.authorization] != nil || request.formQuery.get("signature") != nil else {
            return try await next(request, context)
        }
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        try limiter.check(address)
        do {
            return try await next(request, context)
        } catch let error as APIError where error.status == .unauthorized {
            limiter.recordFailure(address)
            throw error
        }
    }
}
