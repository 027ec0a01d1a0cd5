"""What reviewers read: the validation report and the pages' shared templates.

``posterior`` (posterior queries: response curves, implied lifts, expected target as draws) ·
``figures`` (the matplotlib figures as embeddable PNGs) · ``page`` (``write_report``, and
``render`` for the Jinja templates in ``templates/``, shared with the study page).
"""
