"""Job postings: departments, titles and dates, weighted by company size and growth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from .common import (
    SCHEMAS,
    WINDOW_DAYS,
    company_ids,
    dates_before,
    draw_sorted,
    labels,
    oldest_first,
    pick_by_group,
    stream_rng,
)

DEPARTMENTS = (
    "sales",
    "revenue operations",
    "engineering",
    "marketing",
    "customer success",
    "finance",
    "operations",
    "product",
    "people",
)
# P(department) for traditional companies, tech companies, and tech companies growing.
DEPARTMENT_MIX = np.array(
    [
        [0.18, 0.02, 0.07, 0.08, 0.10, 0.09, 0.30, 0.02, 0.14],
        [0.20, 0.04, 0.30, 0.09, 0.10, 0.05, 0.06, 0.09, 0.07],
        [0.28, 0.06, 0.28, 0.09, 0.09, 0.04, 0.04, 0.07, 0.05],
    ]
)
TITLES: dict[str, dict[str, float]] = {
    "sales": {
        "Account Executive": 10,
        "Senior Account Executive": 6,
        "Enterprise Account Executive": 4,
        "Mid-Market Account Executive": 3,
        "SDR": 6,
        "Sales Development Representative": 8,
        "BDR": 4,
        "Business Development Representative": 5,
        "Account Manager": 5,
        "Sales Manager": 4,
        "Regional Sales Manager": 2,
        "Head of Sales": 1.5,
        "VP of Sales": 1,
        "Sales Director": 1.5,
        "Solutions Engineer": 2,
        "Inside Sales Representative": 3,
        "Channel Sales Manager": 1,
        "Strategic Account Director": 1,
    },
    "revenue operations": {
        "Revenue Operations Manager": 4,
        "Sales Operations Analyst": 4,
        "RevOps Analyst": 3,
        "Salesforce Administrator": 4,
        "Director of Revenue Operations": 1.5,
        "Sales Enablement Manager": 2,
        "CRM Manager": 2,
        "Deal Desk Analyst": 1,
        "Head of Revenue Operations": 1,
        "Revenue Operations Specialist": 2,
    },
    "engineering": {
        "Software Engineer": 8,
        "Senior Software Engineer": 7,
        "Backend Engineer": 4,
        "Senior Backend Engineer": 4,
        "Frontend Engineer": 4,
        "Senior Frontend Engineer": 3,
        "Full Stack Engineer": 4,
        "Data Engineer": 3,
        "DevOps Engineer": 3,
        "Site Reliability Engineer": 2,
        "Machine Learning Engineer": 2,
        "QA Engineer": 2,
        "Staff Engineer": 1.5,
        "Principal Engineer": 0.8,
        "Engineering Manager": 2,
        "Mobile Engineer": 1.5,
        "Security Engineer": 1.5,
        "Data Scientist": 2,
        "VP of Engineering": 0.4,
    },
    "marketing": {
        "Marketing Manager": 5,
        "Product Marketing Manager": 4,
        "Demand Generation Manager": 3,
        "Content Marketing Manager": 3,
        "Growth Marketing Manager": 3,
        "Marketing Coordinator": 3,
        "SEO Specialist": 2,
        "Field Marketing Manager": 1.5,
        "Marketing Operations Manager": 2,
        "Brand Manager": 2,
        "Social Media Manager": 2,
        "Head of Marketing": 1,
        "CMO": 0.3,
    },
    "customer success": {
        "Customer Success Manager": 8,
        "Senior Customer Success Manager": 3,
        "Customer Support Specialist": 6,
        "Support Engineer": 3,
        "Implementation Manager": 2,
        "Onboarding Specialist": 2,
        "Technical Account Manager": 2,
        "Customer Experience Associate": 2,
        "Head of Customer Success": 1,
    },
    "finance": {
        "Financial Analyst": 5,
        "Senior Accountant": 4,
        "Accountant": 4,
        "Accounts Payable Specialist": 3,
        "Controller": 2,
        "FP&A Manager": 2,
        "Finance Manager": 2,
        "Payroll Specialist": 2,
        "Billing Specialist": 2,
        "CFO": 0.4,
    },
    "operations": {
        "Operations Manager": 6,
        "Project Manager": 4,
        "Warehouse Associate": 4,
        "Operations Analyst": 3,
        "Office Manager": 3,
        "Logistics Coordinator": 3,
        "Supply Chain Analyst": 2,
        "Procurement Specialist": 2,
        "Business Operations Associate": 2,
        "Store Manager": 2,
        "Facilities Coordinator": 1.5,
        "Chief Operating Officer": 0.3,
    },
    "product": {
        "Product Manager": 6,
        "Senior Product Manager": 4,
        "Product Designer": 4,
        "UX Designer": 3,
        "UX Researcher": 2,
        "Technical Product Manager": 2,
        "Product Owner": 2,
        "Group Product Manager": 1,
        "Head of Product": 1,
    },
    "people": {
        "Recruiter": 5,
        "Technical Recruiter": 4,
        "Talent Acquisition Partner": 3,
        "HR Business Partner": 3,
        "HR Generalist": 3,
        "People Operations Manager": 2,
        "Talent Sourcer": 2,
        "Learning and Development Manager": 1,
        "Head of People": 1,
    },
}


def draw_jobs(n_jobs: int, hidden: pl.DataFrame, as_of: dt.date, seed: int) -> pl.DataFrame:
    """Job postings: bigger and growing companies post more; dates even over two years."""
    rng = stream_rng(seed, 2)
    n = hidden.height
    size = hidden.get_column("size").to_numpy()
    growth = hidden.get_column("growth").to_numpy()
    tech = hidden.get_column("tech").to_numpy()
    # Many small firms never post publicly; growth shows up as more postings.
    posts = rng.random(n) < np.where(growth, 0.9, 0.5)
    weight = size.astype(np.float64) ** 0.5 * np.where(growth, 3.0, 1.0) * posts
    if weight.sum() == 0:
        weight = np.ones(n)
    company = draw_sorted(rng, weight, n_jobs)
    kind = (tech.astype(np.int64) * (1 + growth.astype(np.int64)))[company]
    department = pick_by_group(rng, kind, DEPARTMENT_MIX)
    titles = [t for d in DEPARTMENTS for t in TITLES[d]]
    title_table = np.zeros((len(DEPARTMENTS), len(titles)))
    col = 0
    for d, dept in enumerate(DEPARTMENTS):
        for w in TITLES[dept].values():
            title_table[d, col] = w
            col += 1
    title = pick_by_group(rng, department, title_table)
    days_back = rng.integers(0, WINDOW_DAYS, n_jobs)
    # Postings arrive as a dated feed: oldest first, then by company.
    order = oldest_first(days_back)
    return pl.DataFrame(
        {
            "company_id": company_ids(company[order], n),
            "posted_date": dates_before(as_of, days_back[order]),
            "title": labels(titles, title[order]),
            "department": labels(DEPARTMENTS, department[order]),
        }
    ).cast(SCHEMAS["jobs"])  # type: ignore[arg-type]
