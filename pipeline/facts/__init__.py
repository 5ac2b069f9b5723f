"""Stage 5, facts: numbers and quantities, dates and periods, claims (see ``stage``)."""
