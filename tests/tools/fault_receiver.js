#!/usr/bin/env node
// A misbehaving HTTP receiver for the sender's fault tests. Data requests (any POST to the data
// port) are recorded, one JSON line each, in the --record file before they are answered, so a
// test can count exactly which payloads arrived, even across kills and restarts. How they are
// answered is switched at run time through the plain-HTTP control port:
//   GET /mode?mode=M[&count=N][&retry_after=S|&retry_after_date=S][&message=T][&rejected=R]
//     modes: ok, 503, 429, 400, hang (accept and never answer), slow (200, then a byte every
//     100 ms, never finished), garbage (200 + random bytes),
//     huge (200 + 50 MB streamed), partial (200 + ExportMetricsServiceResponse with
//     partial_success). COUNT: only the next N data requests, then back to ok.
//   GET /stats: {"requests": n, "bytes": n, "open": n}
// Test payloads start with "AMTEST id=<id> items=<n>\n"; other bodies are recorded by size only,
// except OTLP logs with --decode-logs: /v1/logs bodies are decoded (otlp_logs_decode.js) and
// the line lists the exec records' marks (an argument "am-mark-...") with their kernel
// timestamps, a key per record ("keys", equal for a retried record), and the arrival time in
// ns ("arrived"), for exact accounting and latency.
// With --save-dir DIR each body is also written whole to DIR/<request number>.bin.
//
//   node fault_receiver.js --port P --control-port C --record FILE
//        [--cert F --key F [--ca F --require-client-cert] [--http2]] [--save-dir DIR]
"use strict";
const fs = require("fs");
const http = require("http");
const https = require("https");
const http2 = require("http2");
const path = require("path");
const crypto = require("crypto");

function args() {
  const a = {};
  for (let i = 2; i < process.argv.length; i++) {
    const k = process.argv[i];
    if (!k.startsWith("--")) throw new Error("bad argument " + k);
    if (k === "--require-client-cert") a.requireClientCert = true;
    else if (k === "--decode-logs") a.decodeLogs = true;
    else if (k === "--http2") a.http2 = true;
    else a[k.slice(2).replace(/-(.)/g, (_, c) => c.toUpperCase())] = process.argv[++i];
  }
  if (!a.port || !a.controlPort || !a.record)
    throw new Error("usage: --port P --control-port C --record FILE");
  return a;
}

const opt = args();
let mode = { mode: "ok" };
let remaining = -1; // data requests left in MODE; -1: until changed
const stats = { requests: 0, bytes: 0, open: 0 };
const hung = [];

function partialBody(rejected, message) {
  const root = require(path.join(__dirname, "otlp/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js"));
  const T = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
  return Buffer.from(T.encode(T.create({
    partialSuccess: { rejectedDataPoints: rejected, errorMessage: message },
  })).finish());
}

function logMarks(req, body) {
  if (!opt.decodeLogs || !req.url.endsWith("/v1/logs")) return {};
  const arrived = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e3)) * 1000n;
  try {
    const recs = require(path.join(__dirname, "otlp_logs_decode.js")).decodeLogs(body);
    const marks = [];
    for (const r of recs) {
      const args = r.attributes["process.command_args"];
      if (r.eventName !== "process.exec" || !Array.isArray(args)) continue;
      const m = args.find((a) => typeof a === "string" && a.startsWith("am-mark-"));
      if (m) marks.push([m, r.time]);
    }
    // Kernel log records a test wrote itself: body, severity, time and facility.
    const texts = recs.filter((r) => !r.eventName && typeof r.body === "string" &&
                                     r.body.includes("am-mark-"))
      .map((r) => [r.body, r.severity, r.severityText, r.time,
                   r.attributes["syslog.facility.code"]]);
    // Exit records of processes a test named "am-mark...": comm, pid, exit code, signal.
    const exits = recs.filter((r) => r.eventName === "process.exit" &&
                                     String(r.attributes["antimetal.process.comm"]).startsWith("am-mark"))
      .map((r) => [r.attributes["antimetal.process.comm"], r.attributes["process.pid"],
                   r.attributes["process.exit.code"] ?? null,
                   r.attributes["antimetal.process.exit.signal"] ?? null]);
    // One key per record, the same on a retry: duplicates are counted once.
    const keys = recs.map((r) => r.eventName
      ? `${r.eventName}:${r.attributes["process.pid"]}:${r.time}`
      : `kmsg:${r.attributes["antimetal.kmsg.sequence"]}`);
    return { records: recs.length, marks, texts, exits, keys, arrived: arrived.toString() };
  } catch (e) {
    return { decode_error: e.message };
  }
}

function currentMode() {
  const m = mode;
  if (remaining > 0 && --remaining === 0) {
    mode = { mode: "ok" };
    remaining = -1;
  }
  return m;
}

function answer(req, res, m) {
  switch (m.mode) {
    case "ok":
      res.writeHead(200, { "Content-Type": "application/x-protobuf" });
      return res.end();
    case "503":
    case "429": {
      const h = { "Content-Type": "text/plain" };
      if (m.retry_after) h["Retry-After"] = m.retry_after;
      if (m.retry_after_date)
        h["Retry-After"] = new Date(Date.now() + 1000 * Number(m.retry_after_date)).toUTCString();
      res.writeHead(Number(m.mode), h);
      return res.end(m.message || "try again later\n");
    }
    case "400":
      res.writeHead(400, { "Content-Type": "text/plain" });
      return res.end(m.message || "bad request");
    case "slow": {
      // 200, then a byte every 100 ms, never finished.
      res.writeHead(200, { "Content-Type": "application/x-protobuf" });
      const t = setInterval(() => res.write("x"), 100);
      res.on("close", () => clearInterval(t));
      return;
    }
    case "hang":
      hung.push(res); // never answered; closed when the client gives up
      return;
    case "garbage":
      res.writeHead(200, { "Content-Type": "application/x-protobuf" });
      return res.end(crypto.randomBytes(4096));
    case "huge": {
      res.writeHead(200, { "Content-Type": "application/x-protobuf" });
      const chunk = Buffer.alloc(1 << 20, 0x41);
      let left = 50;
      const more = () => {
        while (left > 0) {
          left--;
          if (!res.write(chunk)) return res.once("drain", more);
        }
        res.end();
      };
      res.on("close", () => (left = 0));
      return more();
    }
    case "partial":
      res.writeHead(200, { "Content-Type": "application/x-protobuf" });
      return res.end(partialBody(Number(m.rejected || 1), m.message || "rejected by test"));
    default:
      res.writeHead(500);
      return res.end("fault_receiver: unknown mode " + m.mode);
  }
}

function onData(req, res) {
  const chunks = [];
  stats.open++;
  res.on("close", () => stats.open--);
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const m = currentMode();
    const head = body.subarray(0, 64).toString("latin1");
    const t = /^AMTEST id=(\S+) items=(\d+)\n/.exec(head);
    stats.requests++;
    stats.bytes += body.length;
    if (opt.saveDir) fs.writeFileSync(path.join(opt.saveDir, stats.requests + ".bin"), body);
    fs.appendFileSync(opt.record, JSON.stringify({
      t: Date.now(), mode: m.mode, bytes: body.length, url: req.url,
      id: t ? t[1] : null, items: t ? Number(t[2]) : null,
      content_type: req.headers["content-type"] || null,
      content_encoding: req.headers["content-encoding"] || null,
      test_header: req.headers["x-test"] || null,
      http_version: req.httpVersion,
      ...logMarks(req, body),
      client_cert: req.socket.getPeerCertificate ? !!(req.socket.getPeerCertificate() || {}).subject : false,
    }) + "\n");
    answer(req, res, m);
  });
}

function onControl(req, res) {
  const u = new URL(req.url, "http://x");
  if (u.pathname === "/mode") {
    mode = Object.fromEntries(u.searchParams);
    remaining = u.searchParams.has("count") ? Number(u.searchParams.get("count")) : -1;
    res.writeHead(200);
    return res.end("mode " + mode.mode + "\n");
  }
  if (u.pathname === "/stats") {
    res.writeHead(200, { "Content-Type": "application/json" });
    return res.end(JSON.stringify(stats) + "\n");
  }
  res.writeHead(404);
  res.end();
}

let server;
if (opt.cert) {
  const tls = { cert: fs.readFileSync(opt.cert), key: fs.readFileSync(opt.key) };
  if (opt.ca) tls.ca = fs.readFileSync(opt.ca);
  if (opt.requireClientCert) {
    tls.requestCert = true;
    tls.rejectUnauthorized = true;
  }
  if (opt.http2) server = http2.createSecureServer({ ...tls, allowHTTP1: true }, onData);
  else server = https.createServer(tls, onData);
  server.on("tlsClientError", (e) => process.stderr.write("tls: " + e.message + "\n"));
} else {
  server = http.createServer(onData);
}
// Hung requests must not be timed out by node itself.
if (!opt.http2) {
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.keepAliveTimeout = 60000;
}
const control = http.createServer(onControl);
let up = 0;
const ready = () => {
  if (++up === 2) process.stdout.write("listening " + opt.port + "\n");
};
server.listen(Number(opt.port), "127.0.0.1", ready);
control.listen(Number(opt.controlPort), "127.0.0.1", ready);
