package org

import "fmt"

// DefaultOrgName is the Organization record's Name when Options.OrgName is
// empty.
const DefaultOrgName = "sfbatch emulator"

// organizationObject is the Organization sObject: one read-only record, the
// org itself, whose Id is the org id. Clients such as the Salesforce CLI
// query it after logging in (Name, InstanceName, IsSandbox,
// TrialExpirationDate, NamespacePrefix, OrganizationType).
func organizationObject() *Object {
	name := readOnly(required(str("Name", "Name", 80)))
	name.NameField = true
	ob := object("Organization", "Organization", "Organizations", "00D",
		name,
		readOnly(str("Division", "Division", 80)),
		readOnly(str("InstanceName", "Instance Name", 5)),
		readOnly(typed("IsSandbox", "Is Sandbox", TypeBoolean, 0)),
		readOnly(typed("TrialExpirationDate", "Trial Expiration Date", TypeDateTime, 0)),
		readOnly(str("NamespacePrefix", "Namespace Prefix", 15)),
		readOnly(pick("OrganizationType", "Edition", []string{"Developer Edition", "Enterprise Edition", "Unlimited Edition", "Professional Edition"}, true, "")),
		readOnly(str("LanguageLocaleKey", "Language", 40)),
		readOnly(str("DefaultLocaleSidKey", "Locale", 40)),
		readOnly(str("TimeZoneSidKey", "Time Zone", 40)),
		readOnly(str("Country", "Country", 80)),
	)
	for _, f := range ob.Fields {
		f.Createable, f.Updateable = false, false
	}
	return ob
}

// ensureOrganization creates the Organization record (Id = the org id) if
// the org has none, outside the API, since no API call may create one.
func (o *Org) ensureOrganization(name string) error {
	ob, ok := o.schema.Object("Organization")
	if !ok {
		return nil // a schema without the object
	}
	if name == "" {
		name = DefaultOrgName
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.tables[ob]
	if t.get(o.orgID) != nil {
		return nil
	}
	vals := make([]any, len(ob.Fields))
	set := map[string]any{
		"Name": name, "InstanceName": "EMU1", "IsSandbox": false, "OrganizationType": "Developer Edition",
		"LanguageLocaleKey": "en_US", "DefaultLocaleSidKey": "en_US", "TimeZoneSidKey": "America/Los_Angeles",
	}
	for i, f := range ob.Fields {
		if v, ok := set[f.Name]; ok {
			vals[i] = v
		} else if f.Type == TypeBoolean {
			vals[i] = false
		}
	}
	now := o.now()
	vals[posID], vals[posIsDeleted] = o.orgID, false
	vals[posCreatedDate], vals[posLastModifiedDate], vals[posSystemModstamp] = now, now, now
	vals[posCreatedByID], vals[posLastModifiedByID] = o.defaultUser, o.defaultUser
	r := newRecord(vals)
	t.add(r)
	if o.store != nil {
		if err := o.store.save(o, []dirtyRec{{t: t, r: r}}, "", nil); err != nil {
			t.drop(r)
			return fmt.Errorf("org: save Organization: %w", err)
		}
	}
	return nil
}
