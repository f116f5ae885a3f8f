"""The estate model's rule families. Each module's ``add`` puts its own extra columns (with their
values in the starting solution), rows and rule descriptions onto the model's side constraints:
:mod:`~estate.plan.rules.access` (access standards), :mod:`~estate.plan.rules.sharing`
(incompatible services), :mod:`~estate.plan.rules.guardrails` (partner disposal caps) and
:mod:`~estate.plan.rules.reopening` (bringing empty buildings back into use)."""
