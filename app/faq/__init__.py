"""Answers without asking: the questions customers ask about a parcel's status and risk reasons, shipped
in every language and changed per shop by staff, shown on the tracking page where they apply."""
