-- wrk script: POSTs one JSON body (read from the file given after --) and prints a summary line.
--   wrk -t1 -c64 -d5s -s post.lua URL -- BODY_FILE
-- The summary is one line of tab-separated key=value pairs, read by Bench.java.
function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.method = "POST"
  wrk.body = f:read("*a")
  wrk.headers["Content-Type"] = "application/json"
  -- The client key of chain-on.yaml.in; targets without client authentication ignore it.
  wrk.headers["Authorization"] = "Bearer sk-bench-client-0000000000000000"
  -- Detour's cache (chain on) keys and looks up every request, misses, and stores nothing; others ignore it.
  wrk.headers["Cache-Control"] = "no-store, max-age=0"
  f:close()
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK\trequests=%d\tduration_us=%d\tbytes=%d\terr_connect=%d\terr_read=%d\terr_write=%d\terr_status=%d\terr_timeout=%d\tp50_us=%d\tp90_us=%d\tp99_us=%d\tp999_us=%d\tmax_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
