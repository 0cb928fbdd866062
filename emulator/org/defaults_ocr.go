package org

// opportunityContactRoleObject is OpportunityContactRole: a contact's role in an
// opportunity. Both lookups are required, as in Salesforce, so it loads after Opportunity
// and Contact.
func opportunityContactRoleObject() *Object {
	return object("OpportunityContactRole", "Opportunity Contact Role", "Opportunity Contact Role", "00K",
		required(ref("OpportunityId", "Opportunity ID", "Opportunity", "Opportunity")),
		required(ref("ContactId", "Contact ID", "Contact", "Contact")),
		pick("Role", "Role", []string{"Business User", "Decision Maker", "Economic Buyer", "Economic Decision Maker",
			"Evaluator", "Executive Sponsor", "Influencer", "Technical Buyer", "Other"}, false, ""),
		typed("IsPrimary", "Primary", TypeBoolean, 0),
	)
}
