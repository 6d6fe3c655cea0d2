-- wrk script for bench/bench.py's intake benchmark: every request is the same ~15 KB Gitea
-- review delivery with a unique commit_id and delivery id, signed with HMAC-SHA256.
--
-- wrk's Lua has no HMAC, so bench.py precomputes the signatures: DIR/prefix and DIR/suffix are
-- the body around the 40-character commit_id value, DIR/sigs holds one hex signature per line,
-- signature i being that of prefix .. string.format("%040d", i) .. suffix. Thread t of T sends
-- nonces t, t+T, t+2T, ... so no two requests of a run share a body. A run that outgrows the
-- signatures would repeat bodies: such requests are counted as "wrapped" (and should be 0).
--
--   wrk -s bench/intake.lua URL -- DIR STRIDE EXPECTED_STATUS [OFFSET]
-- (STRIDE is the number of wrk threads, times the number of wrk processes sharing DIR; OFFSET
-- this process's first nonce.)
-- done() prints one line: BENCH {json}.
local threads = {}
local counter = 0

function setup(thread)
	thread:set("tid", counter)
	counter = counter + 1
	table.insert(threads, thread)
end

local function slurp(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("*a")
	f:close()
	return s
end

function init(args)
	local dir = args[1]
	stride = tonumber(args[2])
	expected = tonumber(args[3])
	offset = tonumber(args[4] or "0") -- another wrk on other nonces (bench/intake_pg.py)
	prefix = slurp(dir .. "/prefix")
	suffix = slurp(dir .. "/suffix")
	sigs = {}
	for line in io.lines(dir .. "/sigs") do
		sigs[#sigs + 1] = line
	end
	nsigs = #sigs
	idx = tid + offset
	wrapped = 0
	unexpected = 0
	headers = {
		["Content-Type"] = "application/json",
		["User-Agent"] = "Go-http-client/1.1",
		["X-GitHub-Event"] = "pull_request_rejected",
		["X-GitHub-Event-Type"] = "pull_request_review_rejected",
		["X-Gitea-Event"] = "pull_request_rejected",
		["X-Gitea-Event-Type"] = "pull_request_review_rejected",
		["X-Gitea-Hook-Installation-Target-Type"] = "repository",
		["X-Gogs-Event"] = "pull_request_rejected",
		["X-Gogs-Event-Type"] = "pull_request_review_rejected",
		["Accept-Encoding"] = "gzip",
	}
end

function request()
	if idx >= nsigs then
		wrapped = wrapped + 1
	end
	local i = idx % nsigs
	idx = idx + stride
	local nonce = string.format("%040d", i)
	local id = "b3f0c6e1-7b42-4d8e-" .. string.sub(nonce, 25, 28) .. "-" .. string.sub(nonce, 29, 40)
	local sig = sigs[i + 1]
	headers["X-Gitea-Delivery"] = id
	headers["X-GitHub-Delivery"] = id
	headers["X-Gogs-Delivery"] = id
	headers["X-Gitea-Signature"] = sig
	headers["X-Gogs-Signature"] = sig
	headers["X-Hub-Signature-256"] = "sha256=" .. sig
	return wrk.format("POST", nil, headers, prefix .. nonce .. suffix)
end

function response(status, hdrs, body)
	if status ~= expected then
		unexpected = unexpected + 1
		if unexpected == 1 then
			io.stderr:write("unexpected answer " .. status .. ": " .. string.sub(body, 1, 200) .. "\n")
		end
	end
end

function done(summary, latency, requests)
	local w, u = 0, 0
	for _, t in ipairs(threads) do
		w = w + t:get("wrapped")
		u = u + t:get("unexpected")
	end
	io.write(string.format(
		'BENCH {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p90_us":%d,' ..
		'"p99_us":%d,"max_us":%d,"errors_connect":%d,"errors_read":%d,"errors_write":%d,' ..
		'"errors_status":%d,"errors_timeout":%d,"unexpected":%d,"wrapped":%d}\n',
		summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
		summary.errors.connect, summary.errors.read, summary.errors.write,
		summary.errors.status, summary.errors.timeout, u, w))
end
