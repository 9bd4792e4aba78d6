// Preloaded into elasticdump by bench/export.py (node --require): skip its `GET /` version probe.
// That request needs the `monitor` cluster privilege (a read-only key has none) and the sandbox's
// Elasticsearch zip has no rest-root module, so `GET /` fails there. The version is given instead
// in ORX_BENCH_ES_VERSION; nothing else in elasticdump changes (it still exports with scroll).
const path = require('path')
const Base = require(path.join(process.env.ORX_BENCH_ELASTICDUMP_DIR, 'lib/transports/__es__/_base.js'))
const version = process.env.ORX_BENCH_ES_VERSION
Base.prototype.version = function (prefix, callback) {
  this.ESFullversion = version
  this.ESversion = version.split('.')[0]
  this.ESDistribution = 'elasticsearch'
  this.DistributionVersion = version
  return callback()
}
