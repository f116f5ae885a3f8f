"""Finance: the one cost model and the costing of a disposal programme.

:mod:`estate.finance.costs` is the cost model the optimiser's objective uses;
:mod:`estate.finance.programme` phases a plan and turns it into cash flows,
NPV, payback, the partner ledger and a sensitivity table;
:mod:`estate.finance.workbook` writes them as an auditable workbook and CSVs.
"""

from estate.finance.costs import (ASSET_OPTION_COLUMNS, MOVE_COST_COLUMNS, annuity_factor, asset_options,
                                  discount_factor, earliest_exit_year, gbp_millions, move_cost_gbp, move_costs,
                                  year_label)
from estate.finance.programme import (CATEGORIES, Programme, cost_programme, npv_gbp, partner_ledger, payback_year,
                                      phasing_table, sensitivity_table)

__all__ = ["ASSET_OPTION_COLUMNS", "CATEGORIES", "MOVE_COST_COLUMNS", "Programme", "annuity_factor", "asset_options",
           "cost_programme", "discount_factor", "earliest_exit_year", "gbp_millions", "move_cost_gbp", "move_costs",
           "npv_gbp", "partner_ledger", "payback_year", "phasing_table", "sensitivity_table", "year_label"]
