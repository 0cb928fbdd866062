package org

import "strings"

// The default org's standard objects. Each call builds fresh objects, so
// schemas never share mutable state.

func systemFields() []*Field {
	return []*Field{
		{Name: "Id", Label: "Record ID", Type: TypeID, Length: 18, IDLookup: true, DefaultedOnCreate: true},
		{Name: "IsDeleted", Label: "Deleted", Type: TypeBoolean, DefaultedOnCreate: true},
		{Name: "CreatedDate", Label: "Created Date", Type: TypeDateTime, DefaultedOnCreate: true},
		{Name: "CreatedById", Label: "Created By ID", Type: TypeReference, Length: 18, DefaultedOnCreate: true, ReferenceTo: []string{"User"}, RelationshipName: "CreatedBy"},
		{Name: "LastModifiedDate", Label: "Last Modified Date", Type: TypeDateTime, DefaultedOnCreate: true},
		{Name: "LastModifiedById", Label: "Last Modified By ID", Type: TypeReference, Length: 18, DefaultedOnCreate: true, ReferenceTo: []string{"User"}, RelationshipName: "LastModifiedBy"},
		{Name: "SystemModstamp", Label: "System Modstamp", Type: TypeDateTime, DefaultedOnCreate: true},
	}
}

// field builders
func str(name, label string, length int) *Field {
	return &Field{Name: name, Label: label, Type: TypeString, Length: length, Nillable: true, Createable: true, Updateable: true}
}

func required(f *Field) *Field { f.Nillable = false; return f }

func typed(name, label, typ string, length int) *Field {
	f := str(name, label, length)
	f.Type = typ
	switch typ {
	case TypeBoolean:
		f.Nillable, f.DefaultedOnCreate, f.Default = false, true, false
	case TypeInt:
		f.Precision = 8
	case TypeDouble, TypeCurrency, TypePercent:
		f.Precision, f.Scale = 18, 2
	}
	return f
}

func ref(name, label, to, rel string) *Field {
	f := typed(name, label, TypeReference, 18)
	f.ReferenceTo, f.RelationshipName = []string{to}, rel
	return f
}

func pick(name, label string, values []string, restricted bool, def string) *Field {
	f := typed(name, label, TypePicklist, 255)
	f.PicklistValues, f.RestrictedPicklist = values, restricted
	if def != "" {
		f.Default, f.DefaultPicklistValue, f.DefaultedOnCreate = def, def, true
	}
	return f
}

func readOnly(f *Field) *Field { f.Createable, f.Updateable = false, false; return f }

func extID() *Field {
	f := str("External_Id__c", "External Id", 255)
	f.Unique, f.ExternalID, f.IDLookup, f.CaseSensitive, f.Custom = true, true, true, true, true
	return f
}

func owner() *Field {
	f := ref("OwnerId", "Owner ID", "User", "Owner")
	f.Nillable, f.DefaultedOnCreate = false, true
	return f
}

func object(name, label, plural, prefix string, fields ...*Field) *Object {
	return &Object{Name: name, Label: label, LabelPlural: plural, KeyPrefix: prefix, Fields: append(systemFields(), fields...)}
}

// address returns the components of the compound address field prefix+"Address" and the
// field itself, in describe order: Street, City, State, PostalCode, Country, Latitude,
// Longitude, GeocodeAccuracy, then the read-only compound field.
func address(prefix, label string) []*Field {
	coord := func(name, label string) *Field {
		f := typed(prefix+name, label, TypeDouble, 0)
		f.Precision, f.Scale = 18, 15
		return f
	}
	fields := []*Field{
		typed(prefix+"Street", label+" Street", TypeTextArea, 255),
		str(prefix+"City", label+" City", 40),
		str(prefix+"State", label+" State/Province", 80),
		str(prefix+"PostalCode", label+" Zip/Postal Code", 20),
		str(prefix+"Country", label+" Country", 80),
		coord("Latitude", label+" Latitude"),
		coord("Longitude", label+" Longitude"),
		pick(prefix+"GeocodeAccuracy", label+" Geocode Accuracy", []string{"Address", "NearAddress", "Block", "Street",
			"ExtendedZip", "Zip", "Neighborhood", "City", "County", "State", "Unknown"}, true, ""),
	}
	compound := readOnly(typed(prefix+"Address", label+" Address", TypeAddress, 0))
	for _, f := range fields {
		f.CompoundFieldName = compound.Name
	}
	return append(fields, compound)
}

// geolocation returns the components of the custom location field f (Name__c):
// Name__Latitude__s and Name__Longitude__s (double, f's scale), and f itself made a
// read-only compound field.
func geolocation(f *Field) []*Field {
	base := strings.TrimSuffix(f.Name, "__c")
	f.Createable, f.Updateable, f.Nillable = false, false, true
	coord := func(part string) *Field {
		c := typed(base+"__"+part+"__s", f.Label+" ("+part+")", TypeDouble, 0)
		c.Precision, c.Scale, c.Custom, c.CompoundFieldName = 18, f.Scale, true, f.Name
		return c
	}
	return []*Field{f, coord("Latitude"), coord("Longitude")}
}

func industries() []string {
	return []string{"Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction",
		"Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment", "Environmental", "Finance",
		"Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media",
		"Not For Profit", "Other", "Recreation", "Retail", "Shipping", "Technology", "Telecommunications", "Transportation", "Utilities"}
}

func defaultSpecs() []*Object {
	nameField := func(f *Field) *Field { f.NameField, f.IDLookup = true, true; return f }
	computedName := func(length int) *Field {
		f := readOnly(str("Name", "Full Name", length))
		f.NameField = true
		return f
	}
	description := func() *Field { return typed("Description", "Description", TypeTextArea, 32000) }

	account := object("Account", "Account", "Accounts", "001",
		nameField(required(str("Name", "Account Name", 255))),
		str("AccountNumber", "Account Number", 40),
		pick("Industry", "Industry", industries(), false, ""),
		pick("Type", "Account Type", []string{"Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller", "Installation Partner", "Technology Partner", "Other"}, false, ""),
		pick("Rating", "Account Rating", []string{"Hot", "Warm", "Cold"}, false, ""),
		typed("Phone", "Account Phone", TypePhone, 40),
		typed("Fax", "Account Fax", TypePhone, 40),
		typed("Website", "Website", TypeURL, 255),
		typed("AnnualRevenue", "Annual Revenue", TypeCurrency, 0),
		typed("NumberOfEmployees", "Employees", TypeInt, 0),
		description(),
		ref("ParentId", "Parent Account ID", "Account", "Parent"),
		owner(),
		extID(),
	)
	account.Fields = append(account.Fields, address("Billing", "Billing")...)
	account.Fields = append(account.Fields, address("Shipping", "Shipping")...)

	contactEmail := typed("Email", "Email", TypeEmail, 80)
	contactEmail.IDLookup = true
	contact := object("Contact", "Contact", "Contacts", "003",
		str("FirstName", "First Name", 40),
		required(str("LastName", "Last Name", 80)),
		computedName(121),
		pick("Salutation", "Salutation", []string{"Mr.", "Ms.", "Mrs.", "Dr.", "Prof."}, false, ""),
		str("Title", "Title", 128),
		contactEmail,
		typed("Phone", "Business Phone", TypePhone, 40),
		typed("MobilePhone", "Mobile Phone", TypePhone, 40),
		description(),
		typed("DoNotCall", "Do Not Call", TypeBoolean, 0),
		typed("HasOptedOutOfEmail", "Email Opt Out", TypeBoolean, 0),
		typed("Birthdate", "Birthdate", TypeDate, 0),
		pick("LeadSource", "Lead Source", []string{"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"}, false, ""),
		ref("AccountId", "Account ID", "Account", "Account"),
		ref("ReportsToId", "Reports To ID", "Contact", "ReportsTo"),
		owner(),
		extID(),
	)
	contact.Fields = append(contact.Fields, address("Mailing", "Mailing")...)
	contact.Fields = append(contact.Fields, address("Other", "Other")...)

	leadStatus := pick("Status", "Status", []string{"Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"}, true, "Open - Not Contacted")
	lead := object("Lead", "Lead", "Leads", "00Q",
		str("FirstName", "First Name", 40),
		required(str("LastName", "Last Name", 80)),
		computedName(121),
		required(str("Company", "Company", 255)),
		str("Title", "Title", 128),
		typed("Email", "Email", TypeEmail, 80),
		typed("Phone", "Phone", TypePhone, 40),
		leadStatus,
		pick("LeadSource", "Lead Source", []string{"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"}, false, ""),
		pick("Industry", "Industry", industries(), false, ""),
		typed("AnnualRevenue", "Annual Revenue", TypeCurrency, 0),
		typed("NumberOfEmployees", "Employees", TypeInt, 0),
		typed("IsConverted", "Converted", TypeBoolean, 0),
		description(),
		owner(),
	)
	lead.Fields = append(lead.Fields, address("", "")...)
	for _, f := range lead.Fields[len(lead.Fields)-9:] {
		f.Label = strings.TrimSpace(f.Label) // " City" -> "City"
	}

	opp := object("Opportunity", "Opportunity", "Opportunities", "006",
		nameField(required(str("Name", "Name", 120))),
		ref("AccountId", "Account ID", "Account", "Account"),
		required(pick("StageName", "Stage", []string{"Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"}, false, "")),
		typed("Amount", "Amount", TypeCurrency, 0),
		typed("Probability", "Probability (%)", TypePercent, 0),
		required(typed("CloseDate", "Close Date", TypeDate, 0)),
		pick("Type", "Opportunity Type", []string{"Existing Customer - Upgrade", "Existing Customer - Replacement", "Existing Customer - Downgrade", "New Customer"}, false, ""),
		pick("LeadSource", "Lead Source", []string{"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"}, false, ""),
		str("NextStep", "Next Step", 255),
		description(),
		owner(),
	)
	for _, f := range opp.Fields {
		if f.Type == TypeInt || f.Type == TypeCurrency || f.Type == TypePercent {
			f.Precision, f.Scale = 18, 2
		}
	}

	caseNum := readOnly(str("CaseNumber", "Case Number", 30))
	caseNum.NameField = true
	cs := object("Case", "Case", "Cases", "500",
		caseNum,
		str("Subject", "Subject", 255),
		description(),
		pick("Status", "Status", []string{"New", "Working", "Escalated", "Closed"}, false, "New"),
		pick("Origin", "Case Origin", []string{"Phone", "Email", "Web"}, false, ""),
		pick("Priority", "Priority", []string{"High", "Medium", "Low"}, false, "Medium"),
		pick("Type", "Case Type", []string{"Mechanical", "Electrical", "Electronic", "Structural", "Other"}, false, ""),
		ref("AccountId", "Account ID", "Account", "Account"),
		ref("ContactId", "Contact ID", "Contact", "Contact"),
		typed("SuppliedEmail", "Web Email", TypeEmail, 80),
		owner(),
	)

	profile := object("Profile", "Profile", "Profiles", "00e",
		nameField(required(str("Name", "Name", 255))),
		description(),
	)

	username := required(str("Username", "Username", 80))
	username.Unique, username.IDLookup = true, true
	user := object("User", "User", "Users", "005",
		username,
		str("FirstName", "First Name", 40),
		required(str("LastName", "Last Name", 80)),
		computedName(121),
		required(typed("Email", "Email", TypeEmail, 128)),
		required(str("Alias", "Alias", 8)),
		str("CommunityNickname", "Nickname", 40),
		str("Title", "Title", 80),
		typed("IsActive", "Active", TypeBoolean, 0),
		ref("ProfileId", "Profile ID", "Profile", "Profile"),
		pick("TimeZoneSidKey", "Time Zone", []string{"America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Paris", "Asia/Tokyo", "GMT"}, true, "America/Los_Angeles"),
		pick("LocaleSidKey", "Locale", []string{"en_US", "en_GB", "fr_FR", "de_DE", "ja_JP"}, true, "en_US"),
		pick("EmailEncodingKey", "Email Encoding", []string{"UTF-8", "ISO-8859-1"}, true, "UTF-8"),
		pick("LanguageLocaleKey", "Language", []string{"en_US", "fr", "de", "ja"}, true, "en_US"),
		ref("ManagerId", "Manager ID", "User", "Manager"),
	)
	for _, f := range user.Fields {
		if f.Name == "IsActive" {
			f.Default = true
		}
	}
	return append([]*Object{account, contact, lead, opp, opportunityContactRoleObject(), cs, profile, user, organizationObject(), recordTypeObject(), attachmentObject()}, contentObjects()...)
}
