-- The same chat completion with an API key, as a client of a gateway with auth required sends it.
wrk.method = "POST"
wrk.body = '{"model":"bench","messages":[{"role":"user","content":"hello"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SG_BENCH_KEY")
