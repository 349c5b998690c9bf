#!/usr/bin/env node
// Decodes OTLP ExportLogsServiceRequest bodies with the decoders npm's
// @opentelemetry/otlp-transformer generated from the official protos (not this project's code),
// and prints one JSON line per log record with every field typed, so tests compare exact text:
//   {"time":"NS","observed":"NS","severity":N,"severityText":"..","eventName":"..",
//    "body":V,"attributes":{"key":V,...},"resource":{"key":V,...},"scope":"name"}
// where V is a string, an integer as a JSON number when exact (else a string), a boolean,
// {"bytes":"hex"} or an array of V. Usage: otlp_logs_decode.js FILE... (gzip'd files are
// recognised by their magic number). Also a module: decodeLogs(buffer) -> [record objects].
'use strict';
const fs = require('fs');
const path = require('path');
const { mods, root, gunzipIfGzip, valueReaders } = require('./otlp_common.js');

const $protobuf = require(path.join(mods, 'protobufjs/minimal'));
const Req = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;

function long(v) {
	const s = v.toString();
	const n = Number(s);
	return Number.isSafeInteger(n) ? n : s;
}

const { anyValue, attrs } = valueReaders(long);

// LogRecord.event_name (field 12) is newer than the 0.52.1 decoders: read it off the wire in
// the order the decoder meets the records.
function fields(buf, want) {
	const r = $protobuf.Reader.create(buf);
	const out = [];
	while (r.pos < r.len) {
		const tag = r.uint32();
		if (tag >>> 3 === want && (tag & 7) === 2)
			out.push(r.bytes());
		else
			r.skipType(tag & 7);
	}
	return out;
}

function eventNames(buf) {
	const names = [];
	for (const rl of fields(buf, 1))
		for (const sl of fields(rl, 2))
			for (const rec of fields(sl, 2)) {
				const n = fields(rec, 12);
				names.push(n.length ? Buffer.from(n[n.length - 1]).toString('utf8') : '');
			}
	return names;
}

function decodeLogs(buf) {
	buf = gunzipIfGzip(buf);
	const req = Req.decode(buf);
	const names = eventNames(buf);
	const out = [];
	for (const rl of req.resourceLogs || []) {
		const resource = attrs(rl.resource ? rl.resource.attributes : []);
		for (const sl of rl.scopeLogs || [])
			for (const lr of sl.logRecords || [])
				out.push({
					time: lr.timeUnixNano ? lr.timeUnixNano.toString() : '0',
					observed: lr.observedTimeUnixNano ? lr.observedTimeUnixNano.toString() : '0',
					severity: lr.severityNumber,
					severityText: lr.severityText,
					eventName: names[out.length],
					body: anyValue(lr.body),
					attributes: attrs(lr.attributes),
					resource,
					scope: sl.scope ? sl.scope.name : '',
				});
	}
	return out;
}

module.exports = { decodeLogs };

if (require.main === module) {
	let bad = 0;
	for (const f of process.argv.slice(2)) {
		try {
			for (const rec of decodeLogs(fs.readFileSync(f)))
				process.stdout.write(JSON.stringify(rec) + '\n');
		} catch (e) {
			process.stderr.write(`${f}: ${e.message}\n`);
			bad = 1;
		}
	}
	// Not process.exit(): it would cut stdout short when it is a pipe that is still draining.
	process.exitCode = bad;
}
