package graphtest

// Text pools for generated tenants. Strings are shared between objects, so a
// large tenant costs little memory.

var firstNames = []string{
	"Adele", "Alex", "Megan", "Lee", "Nestor", "Patti", "Lidia", "Diego", "Isaiah", "Johanna",
	"Joni", "Lynne", "Miriam", "Pradeep", "Grady", "Irvin", "Christie", "Enrico", "Henrietta", "Allan",
	"Debra", "Emily", "Ben", "Brian", "Cameron", "Dana", "Gerhart", "Jordan", "Kai", "Lena",
}

var lastNames = []string{
	"Vance", "Wilber", "Bowen", "Gu", "Wilke", "Fernandez", "Holloway", "Siciliani", "Langer", "Lauer",
	"Sherman", "Robbins", "Graham", "Gupta", "Archie", "Sayers", "Cline", "Cattaneo", "Mueller", "Deyoung",
	"Berger", "Braun", "Walters", "Johnson", "White", "Moore", "Okafor", "Nakamura", "Silva", "Kowalski",
}

var jobTitles = []string{
	"Product Marketing Manager", "Marketing Assistant", "Marketing Manager", "Director of Engineering",
	"Director of Operations", "President", "Product Manager", "HR Manager", "Web Marketing Manager",
	"Legal Director", "Paralegal", "Retail Manager", "CVP Marketing", "IT Manager", "Designer",
	"Software Engineer", "Accountant", "Sales Representative", "Support Engineer", "Data Analyst",
}

var offices = []string{"18/2111", "20/1101", "131/1104", "23/3101", "19/3123", "15/1102", "12/1110", "14/1108"}

var groupNames = []string{
	"Marketing", "Product Development", "IT Operations", "Sales", "Finance", "Human Resources",
	"Customer Success", "Legal", "Design", "Engineering Platform", "Retail", "Research",
	"Facilities", "Partner Program", "Communications", "Security",
}

var planTitles = []string{
	"Q3 Product Launch", "Website Refresh", "Mobile App v2.0", "Office Move", "Annual Budget",
	"Hiring Plan", "Customer Onboarding", "Contract Renewals", "Brand Guidelines", "Platform Migration",
	"Holiday Campaign", "Partner Summit", "Compliance Audit", "Support Backlog", "Data Warehouse",
	"Trade Show Prep", "Security Hardening", "Sales Kickoff", "Newsletter", "Research Roadmap",
}

var bucketNames = []string{
	"To do", "In progress", "Review", "Done", "Backlog", "Blocked", "Ideas", "Next sprint",
	"Design", "Build", "Test", "Launch", "Waiting on others", "Later",
}

var labelNames = []string{
	"Urgent", "Design", "Engineering", "Marketing", "Blocked", "Customer", "Legal review",
	"Budget", "Quick win", "Needs decision", "External", "Research",
}

var taskVerbs = []string{
	"Draft", "Review", "Finalize", "Schedule", "Update", "Prepare", "Send", "Approve",
	"Plan", "Organize", "Research", "Test", "Publish", "Translate", "Summarize", "Audit",
	"Estimate", "Design", "Collect", "Confirm", "Book", "Archive", "Migrate", "Document",
}

var taskObjects = []string{
	"the budget proposal", "vendor contract", "press release", "launch checklist", "customer survey",
	"kickoff meeting", "social media calendar", "product FAQ", "pricing page", "training deck",
	"hiring scorecards", "Q3 forecast", "release notes", "onboarding guide", "partner agreement",
	"security review", "travel arrangements", "status report", "design mockups", "user interviews",
	"competitive analysis", "SLA dashboard", "expense reports", "demo environment", "email campaign",
	"board presentation", "accessibility audit", "data retention policy", "sprint retrospective notes",
	"catering order", "floor plan", "license inventory", "support macros", "roadmap slides",
	"webinar invitations", "localization files", "customer case study", "beta feedback", "invoice batch",
	"backup restore test",
}

var descSentences = []string{
	"Coordinate with the team before Friday.",
	"See the attached document for the details.",
	"The previous version is in the shared drive.",
	"Check the numbers against last quarter.",
	"Loop in Legal if anything changes in scope.",
	"Keep the tone friendly and concise.",
	"We agreed on this in Monday's stand-up.",
	"Blocked until the vendor confirms the dates.",
	"Use the new template from the brand team.",
	"Target audience: existing customers in EMEA.",
	"Budget owner signs off before we send it.",
	"Add the results to the weekly status report.",
	"Ask IT for access if you don't have it yet.",
	"Two reviewers are needed for this one.",
	"Remember the accessibility checklist.",
	"Follow up with anyone who hasn't replied.",
}

var checklistTitles = []string{
	"Gather requirements", "Write first draft", "Get feedback", "Incorporate comments", "Final review",
	"Send for approval", "Book the room", "Order supplies", "Update the tracker", "Notify stakeholders",
	"Create the folder", "Check spelling", "Export to PDF", "Upload to SharePoint", "Schedule follow-up",
	"Confirm attendees", "Test on mobile", "Check links", "Archive old version", "Celebrate 🎉",
}

var refDocs = []struct{ name, ext, typ string }{
	{"Budget 2026", "xlsx", "Excel"}, {"Launch plan", "docx", "Word"}, {"Kickoff deck", "pptx", "PowerPoint"},
	{"Requirements", "docx", "Word"}, {"Forecast", "xlsx", "Excel"}, {"Status review", "pptx", "PowerPoint"},
	{"Contract draft", "docx", "Word"}, {"Survey results", "xlsx", "Excel"},
}

var refSites = []string{"Marketing", "ProductDev", "ITOps", "Sales", "Finance", "Team Site"}

// awkwardTitles exercise quoting, escaping, Unicode and SQL-ish content.
var awkwardTitles = []string{
	`Review "Q3" numbers — O'Brien's notes`,
	"🚀 Launch day checklist 🎉",
	"مراجعة خطة المشروع",
	"סקירת תקציב רבעוני",
	"Robert'); DROP TABLE Tasks;--",
	"Tab\tseparated\ttitle",
	`Back\slash \n is not a newline`,
	"<b>HTML</b> &amp; entities <script>alert(1)</script>",
	"%s %d {0} ${HOME} $1 \\x00",
	"Zero\u200dwidth joiner 👩‍💻 and combining e\u0301",
	"   leading and trailing spaces   ",
	"NULL",
	`""`,
	"日本語のタスク・確認",
	"Ünïcödé Çafé naïve résumé",
	"Line with U+2028\u2028separator",
}

var awkwardDescriptions = []string{
	"First line\nSecond line\r\nThird line with a tab\there.",
	"Quotes: \"double\", 'single', `back`, «guillemets», „low“.",
	"RTL: مرحبا بالعالم and עברית mixed with English.",
	"Emoji: 👍🏽 ✅ 🚀 👨‍👩‍👧‍👦 🇳🇱",
	"JSON-ish: {\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
	"SQL-ish: '; DELETE FROM Tasks WHERE 1=1; --",
}

var awkwardBuckets = []string{"Done ✅", "Won't do", "Bucket \"with quotes\"", "سلة المهام", "A bucket with a very long name that keeps going and going well past what fits on a board column header"}

var awkwardURLs = []string{
	"https://contoso.sharepoint.com/sites/Team%20Site/Shared%20Documents/Q3%20plan%20(final).docx?web=1#page=2",
	"https://user@example.com:8443/path/to/file.pdf",
	"http://example.org/search?q=a+b&lang=en#results",
	"https://contoso.sharepoint.com/sites/Marketing/Documents/Résumé – naïve.docx",
	"https://example.com/100%25/done",
}
