"""The dataset: files on disk -> validated, typed, joined and normalised tables.

``digest`` hashes the data package (standard library only), ``validate`` checks the files
against the contract, ``load`` turns them into a :class:`~sting_outcomes.data.load.Dataset`,
``units`` converts units and currencies, ``coverage`` summarises what the data hold.
Nothing else in the package reads ``data/``.
"""
