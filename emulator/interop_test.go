package emulator

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestJSForceInterop runs a jsforce script (login over SOAP, CRUD, upsert,
// collections, query with autofetch, logout) against the emulator over
// HTTPS. It needs node and a directory where jsforce is installed
// (npm install jsforce@3): SFBATCH_JSFORCE_DIR=/path go test -run JSForce.
// The script is written into that directory as sfbatch-interop.js.
func TestJSForceInterop(t *testing.T) {
	dir := os.Getenv("SFBATCH_JSFORCE_DIR")
	if dir == "" {
		t.Skip("SFBATCH_JSFORCE_DIR not set")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	s, _ := newTestServer(t, func(c *Config) { c.Clock = nil })
	info, err := s.StartupInfo(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "sfbatch-interop.js")
	if err := os.WriteFile(script, []byte(jsforceScript), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), node, script, info.LoginURL, info.Username, info.Password+info.SecurityToken)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+info.CACertFile)
	out, err := cmd.CombinedOutput()
	t.Logf("jsforce output:\n%s", out)
	if err != nil {
		t.Fatalf("jsforce: %v", err)
	}
	for _, want := range []string{"login ok", "create true", "retrieve Lovelace", "upsert created true false",
		"collections create 250", "query 1 Grace", "autofetch 252", "bad create REQUIRED_FIELD_MISSING", "collections delete 250", "bulk2 insert 1000 0", "bulk2 query 1000", "logout ok"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// jsforceScript drives jsforce against the emulator.
const jsforceScript = `// Logs in to the emulator with SOAP, then query, create, update, upsert, collections, delete.
const jsforce = require('jsforce');
(async () => {
  const [loginUrl, username, password] = process.argv.slice(2);
  const conn = new jsforce.Connection({ loginUrl, version: '62.0' });
  const ui = await conn.login(username, password);
  console.log('login ok', ui.organizationId, ui.id, conn.instanceUrl);
  const ret = await conn.sobject('Contact').create({ FirstName: 'Ada', LastName: 'Lovelace' });
  console.log('create', ret.success, ret.id);
  const rec = await conn.sobject('Contact').retrieve(ret.id);
  console.log('retrieve', rec.LastName);
  await conn.sobject('Contact').update({ Id: ret.id, FirstName: 'Grace' });
  const up1 = await conn.sobject('Contact').upsert({ LastName: 'Up', External_Id__c: 'J-1' }, 'External_Id__c');
  const up2 = await conn.sobject('Contact').upsert({ LastName: 'Up2', External_Id__c: 'J-1' }, 'External_Id__c');
  console.log('upsert created', up1.created, up2.created);
  const many = [];
  for (let i = 0; i < 250; i++) many.push({ FirstName: 'F' + i, LastName: 'Many' });
  const rets = await conn.sobject('Contact').create(many, { allowRecursive: true });
  console.log('collections create', rets.filter(r => r.success).length);
  const q = await conn.query("SELECT Id, FirstName FROM Contact WHERE LastName = 'Lovelace'");
  console.log('query', q.totalSize, q.records[0].FirstName);
  const all = [];
  await new Promise((res, rej) => conn.query('SELECT Id FROM Contact').on('record', r => all.push(r)).on('end', res).on('error', rej).run({ autoFetch: true, maxFetch: 10000 }));
  console.log('autofetch', all.length);
  const bad = await conn.sobject('Contact').create({ FirstName: 'NoLast' }).catch(e => e);
  console.log('bad create', bad.errorCode || (bad.errors && bad.errors[0] && bad.errors[0].statusCode), bad.message);
  const del = await conn.sobject('Contact').destroy(rets.map(r => r.id), { allowRecursive: true });
  console.log('collections delete', del.filter(r => r.success).length);
  conn.bulk2.pollTimeout = 60000; conn.bulk2.pollInterval = 200;
  const recs = []; for (let i = 0; i < 1000; i++) recs.push({ FirstName: 'B' + i, LastName: 'Bulk2' });
  const br = await conn.bulk2.loadAndWaitForResults({ object: 'Contact', operation: 'insert', input: recs });
  console.log('bulk2 insert', br.successfulResults.length, br.failedResults.length);
  const bq = await conn.bulk2.query("SELECT Id FROM Contact WHERE LastName = 'Bulk2'");
  let bn = 0; for await (const r of bq) bn++;
  console.log('bulk2 query', bn);
  await conn.logout();
  console.log('logout ok');
})().catch(e => { console.error('FAILED', e); process.exit(1); });
`
