// Loads a CSV file through jsforce's Bulk API 2.0 helper (loadAndWaitForResults), the way its
// documentation shows, and prints how many rows succeeded, failed and were not processed.
import fs from 'node:fs';
import jsforce from 'jsforce';

const [object, file] = process.argv.slice(2);
const conn = new jsforce.Connection({ loginUrl: process.env.SF_LOGIN_URL, version: '62.0' });
await conn.login(process.env.SF_USERNAME, process.env.SF_PASSWORD + process.env.SF_SECURITY_TOKEN);
const res = await conn.bulk2.loadAndWaitForResults({
  object,
  operation: 'insert',
  input: fs.createReadStream(file),
  pollInterval: 1000,
  pollTimeout: 3600 * 1000,
});
console.log(JSON.stringify({
  succeeded: res.successfulResults.length,
  failed: res.failedResults.length,
  unprocessed: res.unprocessedRecords.length,
}));
