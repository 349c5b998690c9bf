// What the OTLP decoders (otlp_decode.js, otlp_logs_decode.js) share: the decoders npm's
// @opentelemetry/otlp-transformer generated from the official protos, gzip recognised by its
// magic number, and AnyValue / attribute lists as plain JSON.
'use strict';
const path = require('path');
const zlib = require('zlib');

const mods = path.join(__dirname, 'otlp', 'node_modules');
const root = require(path.join(mods, '@opentelemetry/otlp-transformer/build/src/generated/root.js'));

function gunzipIfGzip(buf) {
	if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b)
		return zlib.gunzipSync(buf);
	return buf;
}

// AnyValue and attribute-list readers; INT formats an int64 (a Long), the one point where the
// decoders' output differs (metrics: a decimal string, logs: a number when exact).
function valueReaders(int) {
	function anyValue(v) {
		if (!v)
			return null;
		for (const k of ['stringValue', 'boolValue', 'doubleValue'])
			if (v[k] !== null && v[k] !== undefined)
				return v[k];
		if (v.intValue !== null && v.intValue !== undefined)
			return int(v.intValue);
		if (v.bytesValue !== null && v.bytesValue !== undefined)
			return { bytes: Buffer.from(v.bytesValue).toString('hex') };
		if (v.arrayValue)
			return (v.arrayValue.values || []).map(anyValue);
		if (v.kvlistValue)
			return attrs(v.kvlistValue.values);
		return null;
	}

	function attrs(list) {
		const out = {};
		for (const kv of list || [])
			out[kv.key] = anyValue(kv.value);
		return out;
	}

	return { anyValue, attrs };
}

module.exports = { mods, root, gunzipIfGzip, valueReaders };
