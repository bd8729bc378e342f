"""The embedded demo: demo shop and fleet, local sink servers, generated history. Production code never
imports from here."""
