// Exports the rows of a SOQL query to a CSV file through jsforce's Bulk API 2.0 query
// (bulk2.query), streaming its CSV data to the file the way its documentation shows, and prints
// the file's byte count.
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import jsforce from 'jsforce';

const [soql, file] = process.argv.slice(2);
const conn = new jsforce.Connection({ loginUrl: process.env.SF_LOGIN_URL, version: '62.0' });
await conn.login(process.env.SF_USERNAME, process.env.SF_PASSWORD + process.env.SF_SECURITY_TOKEN);
const records = await conn.bulk2.query(soql, { pollInterval: 1000, pollTimeout: 3600 * 1000 });
await pipeline(records.stream('csv'), fs.createWriteStream(file));
console.log(JSON.stringify({ bytes: fs.statSync(file).size }));
