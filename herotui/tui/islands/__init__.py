"""Islands: one tab each; thin views over registry verbs (see :class:`base.Island`)."""
