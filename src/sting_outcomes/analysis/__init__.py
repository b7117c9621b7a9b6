"""Analysis helpers. Every helper takes the one shape of figures that
:attr:`Dataset.normalized <sting_outcomes.data.load.Dataset.normalized>` gives (joined with
its source and metric, in standard units, with qualifier bounds) and checks its arguments
against the vocabularies."""
