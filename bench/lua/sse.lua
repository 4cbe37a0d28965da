-- Streaming completion whose client asks for usage itself: the gateway passes the stream through.
wrk.method = "POST"
wrk.body = '{"model":"bench","prompt":"hello","stream":true,"stream_options":{"include_usage":true}}'
wrk.headers["Content-Type"] = "application/json"
