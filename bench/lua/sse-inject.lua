-- Streaming completion without stream_options: Sightglass injects include_usage and strips the
-- usage chunk (and "usage":null fields) on the way back, so the client sees what it asked for.
wrk.method = "POST"
wrk.body = '{"model":"bench","prompt":"hello","stream":true}'
wrk.headers["Content-Type"] = "application/json"
