/// The Admin API's usage and costs pages, in OpenAI's shapes: buckets of results, each result
/// one combination of the grouped dimensions (the others null).
struct UsagePage<Result: Encodable & Sendable>: Encodable, Sendable {
    struct Bucket: Encodable, Sendable {
        var object = "bucket"
        var startTime: Int64
        var endTime: Int64
        var results: [Result]
        enum CodingKeys: String, CodingKey {
            case object, results
            case startTime = "start_time", endTime = "end_time"
        }
    }

    var object = "page"
    var data: [Bucket]
    var hasMore: Bool
    @ExplicitNull var nextPage: String?

    enum CodingKeys: String, CodingKey {
        case object, data
        case hasMore = "has_more", nextPage = "next_page"
    }
}

struct CompletionsUsageResult: Encodable, Sendable {
    var object = "organization.usage.completions.result"
    var inputTokens: Int
    var outputTokens: Int
    var inputCachedTokens: Int
    var inputAudioTokens = 0
    var outputAudioTokens = 0
    var numModelRequests: Int
    @ExplicitNull var projectId: String?
    @ExplicitNull var userId: String?
    @ExplicitNull var apiKeyId: String?
    @ExplicitNull var model: String?
    @ExplicitNull var batch: Bool?

    enum CodingKeys: String, CodingKey {
        case object, model, batch
        case inputTokens = "input_tokens", outputTokens = "output_tokens", inputCachedTokens = "input_cached_tokens"
        case inputAudioTokens = "input_audio_tokens", outputAudioTokens = "output_audio_tokens", numModelRequests = "num_model_requests"
        case projectId = "project_id", userId = "user_id", apiKeyId = "api_key_id"
    }
}

struct EmbeddingsUsageResult: Encodable, Sendable {
    var object = "organization.usage.embeddings.result"
    var inputTokens: Int
    var numModelRequests: Int
    @ExplicitNull var projectId: String?
    @ExplicitNull var userId: String?
    @ExplicitNull var apiKeyId: String?
    @ExplicitNull var model: String?

    enum CodingKeys: String, CodingKey {
        case object, model
        case inputTokens = "input_tokens", numModelRequests = "num_model_requests"
        case projectId = "project_id", userId = "user_id", apiKeyId = "api_key_id"
    }
}

struct CostsResult: Encodable, Sendable {
    struct Amount: Encodable, Sendable {
        var value: Double
        var currency = "usd"
    }
    var object = "organization.costs.result"
    var amount: Amount
    @ExplicitNull var lineItem: String?
    @ExplicitNull var projectId: String?
    /// Whether part of `amount` was priced from estimated token counts (an addition to OpenAI's shape).
    var estimated: Bool

    enum CodingKeys: String, CodingKey {
        case object, amount, estimated
        case lineItem = "line_item", projectId = "project_id"
    }
}
