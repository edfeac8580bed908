//! (being written by the lead) Who may book a resource, when it is open, blackouts, fees.
