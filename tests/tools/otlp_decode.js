#!/usr/bin/env node
// Decodes OTLP ExportMetricsServiceRequest bodies with the decoders npm's
// @opentelemetry/otlp-transformer generated from the official protos (not this project's code)
// and prints one JSON line per data point, every field spelled out so tests compare exact text:
//   {"metric":"system.memory.usage","unit":"By","description":"..","kind":"sum"|"gauge",
//    "monotonic":true|false|null,"temporality":2|null,"start":"NS","time":"NS","value":V,
//    "attributes":{"key":"value",...},"resource":{"key":"value",...},
//    "scope":"name","scope_version":".."}
// with times as decimal strings (64 bits) and V a number. Usage: otlp_decode.js FILE...
// (gzip'd files are recognised by their magic number). Also a module: decodeMetrics(buffer).
// With --points, one line per point that C compares byte for byte, nothing left to formatting:
//   METRIC KIND MONOTONIC(1|0|-) TEMPORALITY(-) UNIT(-) START TIME VALUE_HEX KEY=HEX,KEY=HEX
// VALUE_HEX the IEEE 754 bits of the double (16 hex digits), attributes sorted by key and their
// values' UTF-8 bytes in hex ("-" when none).
'use strict';
const fs = require('fs');
const { root, gunzipIfGzip, valueReaders } = require('./otlp_common.js');

const Req = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
const { attrs } = valueReaders((v) => v.toString());

function ns(v) {
	return v === null || v === undefined ? '0' : v.toString();
}

function pointValue(p) {
	if (p.asDouble !== null && p.asDouble !== undefined)
		return p.asDouble;
	if (p.asInt !== null && p.asInt !== undefined)
		return Number(p.asInt.toString());
	return null;
}

function decodeMetrics(buf) {
	const req = Req.decode(gunzipIfGzip(buf));
	const out = [];
	for (const rm of req.resourceMetrics || []) {
		const resource = attrs(rm.resource && rm.resource.attributes);
		for (const sm of rm.scopeMetrics || []) {
			const scope = sm.scope || {};
			for (const m of sm.metrics || []) {
				const data = m.sum || m.gauge;
				const kind = m.sum ? 'sum' : m.gauge ? 'gauge' : 'other';
				for (const p of (data && data.dataPoints) || [])
					out.push({
						metric: m.name,
						unit: m.unit || '',
						description: m.description || '',
						kind,
						monotonic: m.sum ? !!m.sum.isMonotonic : null,
						temporality: m.sum ? m.sum.aggregationTemporality : null,
						start: ns(p.startTimeUnixNano),
						time: ns(p.timeUnixNano),
						value: pointValue(p),
						attributes: attrs(p.attributes),
						resource,
						scope: scope.name || '',
						scope_version: scope.version || '',
					});
			}
		}
	}
	return out;
}

function pointLine(p) {
	const v = Buffer.alloc(8);
	v.writeDoubleBE(p.value === null ? NaN : p.value);
	const a = Object.keys(p.attributes)
		.sort()
		.map((k) => `${k}=${Buffer.from(String(p.attributes[k]), 'utf8').toString('hex')}`);
	return [
		p.metric,
		p.kind,
		p.monotonic === null ? '-' : p.monotonic ? '1' : '0',
		p.temporality === null ? '-' : String(p.temporality),
		p.unit || '-',
		p.start,
		p.time,
		v.toString('hex'),
		a.length ? a.join(',') : '-',
	].join(' ');
}

module.exports = { decodeMetrics, pointLine };

if (require.main === module) {
	const points = process.argv[2] === '--points';
	let status = 0;
	for (const f of process.argv.slice(points ? 3 : 2)) {
		try {
			for (const p of decodeMetrics(fs.readFileSync(f)))
				process.stdout.write((points ? pointLine(p) : JSON.stringify(p)) + '\n');
		} catch (e) {
			process.stderr.write(`${f}: ${e.message}\n`);
			status = 1;
		}
	}
	// exitCode, not exit(): a pipe to the test may still hold output to drain.
	process.exitCode = status;
}
