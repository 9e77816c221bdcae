"""Deterministic synthetic demo dataset in the platform's three-file CSV format.

Every country gets latent factors (development, remoteness, climate, youth) that drift smoothly
over the years; every indicator is a fixed random combination of them plus its own noise, so
indicators correlate across countries and an imputation model has something to learn.
Missingness mimics the real data: per-indicator rates, more gaps for SIDS, whole series absent,
gaps inside series and sparser recent years.

Usage: ``python -m common.data.demo_data ./datasets --seed 0``
"""

import argparse
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from common.core.sids import SIDS
from common.data.files import DATASET_FILES

DEMO_YEARS: tuple[int, ...] = tuple(range(2005, 2023))

DATA_ID_COLUMNS: tuple[str, ...] = ("Country Code", "Indicator Code")
INDICATOR_META_COLUMNS: tuple[str, ...] = (
    "Indicator Code", "Indicator", "Dimension", "Category", "Dataset", "Units", "Definition",
    "Source",
)  # fmt: skip
DATASET_META_COLUMNS: tuple[str, ...] = ("Dataset Code", "Dataset Name")
SOURCE = "Synthetic demo data"

# Real ISO3 codes of countries that are not SIDS, spread over all regions and income levels.
NON_SIDS: tuple[str, ...] = (
    "AFG", "AGO", "ALB", "ARE", "ARG", "ARM", "AUS", "AUT", "AZE", "BDI", "BEL", "BEN", "BFA",
    "BGD", "BGR", "BLR", "BOL", "BRA", "BTN", "BWA", "CAF", "CAN", "CHE", "CHL", "CHN",
    "CIV", "CMR", "COD", "COG", "COL", "CRI", "CZE", "DEU", "DNK", "DZA", "ECU", "EGY", "ESP",
    "EST", "ETH", "FIN", "FRA", "GAB", "GBR", "GEO", "GHA", "GIN", "GMB", "GRC", "GTM", "HND",
    "HRV", "HUN", "IDN", "IND", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA", "JOR", "JPN", "KAZ",
    "KEN", "KHM", "KOR", "KWT", "LAO", "LBN", "LKA", "LTU", "MAR", "MDA", "MDG",
    "MEX", "MLI", "MMR", "MOZ", "MRT", "MWI", "MYS", "NAM", "NER", "NGA", "NIC", "NLD",
    "NOR", "NPL", "NZL", "OMN", "PAK", "PAN", "PER", "PHL", "POL", "PRT", "PRY", "QAT", "ROU",
    "RUS", "RWA", "SAU", "SEN", "SWE", "THA", "TUR", "TZA", "UGA", "USA", "VNM", "ZAF",
)  # fmt: skip

DATASETS: dict[str, str] = {
    "demo_wdi": "World Development Indicators (demo)",
    "demo_gho": "Global Health Observatory (demo)",
    "demo_ilo": "ILOSTAT (demo)",
    "demo_fao": "FAOSTAT (demo)",
}

# Latent factors; an indicator's "driver" names the one it mostly follows, e.g. "-dev".
FACTORS: tuple[str, ...] = ("dev", "remote", "climate", "youth")
SIDS_REMOTENESS_SHIFT = 1.5
SIDS_CLIMATE_SHIFT = 0.8
# Mean and spread of each factor's yearly slope, in factor standard deviations per year.
FACTOR_TRENDS: dict[str, tuple[float, float]] = {
    "dev": (0.04, 0.02),
    "remote": (0.0, 0.005),
    "climate": (0.01, 0.005),
    "youth": (-0.03, 0.01),
}
FACTOR_YEAR_NOISE = 0.02
YOUTH_DEV_CORRELATION = -0.6  # poorer countries are younger
DRIVER_LOADING_RANGE = (0.8, 1.2)
SECONDARY_LOADING_SD = 0.3
COUNTRY_NOISE_RANGE = (0.2, 0.5)  # persistent country x indicator offset, not explained by factors
YEAR_NOISE = 0.03

# Base missing rates by tier; core indicators are the dependable predictors.
MISSING_RATE_RANGES: dict[str, tuple[float, float]] = {
    "core": (0.03, 0.12),
    "common": (0.12, 0.25),
    "sparse": (0.45, 0.9),
}
SIDS_MISSING_FACTOR = 1.6
NON_SIDS_MISSING_FACTOR = 0.8
COUNTRY_MISSING_SD = 0.35
DEV_MISSING_SLOPE = 0.15  # poorer countries report less
WHOLE_SERIES_SHARE = 0.7  # share of a pair's missing rate spent on dropping the whole series
LATE_START_SHARE = 0.3
REPORTING_LAG_SHARE = 0.5
GAP_SHARE = 0.25
MAX_LATE_START_YEARS = 6
MAX_REPORTING_LAG_YEARS = 3
SIGNIFICANT_DIGITS = 4
PERCENT_DECIMALS = 2


class _Spec(NamedTuple):
    """One indicator: metadata plus how its values derive from the latent factors."""

    name: str
    dimension: str
    category: str
    units: str
    kind: str  # "percent": 100 * sigmoid; "log": exp (money, counts); "linear"
    center: float  # logit for "percent", level for "log" and "linear"
    scale: float
    driver: str
    tier: str
    definition: str


# fmt: off
_INDICATORS: dict[str, tuple[_Spec, ...]] = {
    "demo_wdi": (
        _Spec("GDP per capita (constant 2015 USD)", "GDP per capita", "Economy", "USD",
              "log", 9000, 1.1, "+dev", "core",
              "Gross domestic product divided by midyear population, in constant 2015 USD."),
        _Spec("GNI per capita (current USD)", "GNI per capita", "Economy", "USD",
              "log", 8500, 1.1, "+dev", "core",
              "Gross national income divided by midyear population, in current US dollars."),
        _Spec("GDP growth (annual %)", "GDP growth", "Economy", "percent",
              "linear", 3.0, 1.5, "+youth", "common",
              "Annual growth rate of GDP at market prices in constant local currency."),
        _Spec("Inflation, consumer prices (annual %)", "Inflation", "Economy", "percent",
              "log", 4.0, 0.6, "-dev", "common",
              "Annual change in the cost to the average consumer of a basket of goods."),
        _Spec("Exports of goods and services (% of GDP)", "Trade", "Economy", "percent",
              "percent", -0.5, 0.9, "+remote", "core",
              "Value of all goods and services provided to the rest of the world, as % of GDP."),
        _Spec("Imports of goods and services (% of GDP)", "Trade", "Economy", "percent",
              "percent", -0.3, 0.9, "+remote", "core",
              "Value of all goods and services received from the rest of the world, as % of GDP."),
        _Spec("International tourism receipts (% of exports)", "Tourism", "Economy", "percent",
              "percent", -1.5, 1.2, "+remote", "common",
              "Expenditures by international inbound visitors as a share of total exports."),
        _Spec("Personal remittances received (% of GDP)", "Remittances", "Economy", "percent",
              "percent", -2.5, 1.0, "+remote", "common",
              "Personal transfers and compensation of employees received from abroad."),
        _Spec("Central government debt (% of GDP)", "Government debt", "Economy", "percent",
              "percent", 0.0, 0.8, "+remote", "sparse",
              "Gross debt liabilities of the central government as a share of GDP."),
        _Spec("Access to electricity (% of population)", "Access to electricity", "Energy",
              "percent", "percent", 2.0, 1.8, "+dev", "core",
              "Share of the population with access to electricity."),
        _Spec("Renewable energy consumption (% of final energy)", "Renewable energy share",
              "Energy", "percent", "percent", -0.5, 1.3, "-dev", "core",
              "Share of renewable energy in total final energy consumption."),
        _Spec("Fossil fuel energy consumption (% of total)", "Fossil fuel share", "Energy",
              "percent", "percent", 1.5, 1.2, "+dev", "common",
              "Share of coal, oil, petroleum and natural gas in total energy use."),
        _Spec("Electric power consumption (kWh per capita)", "Electricity use", "Energy",
              "kWh per person", "log", 2000, 1.3, "+dev", "common",
              "Production of power plants and combined heat and power plants per person."),
        _Spec("Access to clean fuels for cooking (% of population)", "Clean cooking", "Energy",
              "percent", "percent", 1.2, 2.0, "+dev", "core",
              "Share of the population primarily using clean cooking fuels and technologies."),
        _Spec("CO2 emissions (tonnes per capita)", "CO2 emissions", "Environment",
              "tonnes per person", "log", 3.0, 1.1, "+dev", "core",
              "Carbon dioxide emissions from fossil fuels and cement per person."),
        _Spec("Population, total", "Population", "Population", "people",
              "log", 5e6, 1.8, "-remote", "core",
              "All residents regardless of legal status or citizenship, at midyear."),
        _Spec("Urban population (% of total population)", "Urban population", "Population",
              "percent", "percent", 0.4, 1.0, "+dev", "core",
              "Share of people living in urban areas as defined by national statistical offices."),
        _Spec("Population growth (annual %)", "Population growth", "Population", "percent",
              "linear", 1.3, 1.0, "+youth", "core",
              "Exponential rate of growth of midyear population from one year to the next."),
        _Spec("Population ages 0-14 (% of total population)", "Population age structure",
              "Population", "percent", "percent", -1.2, 0.5, "+youth", "core",
              "Share of the population aged 0 to 14."),
        _Spec("Population ages 65 and above (% of total population)", "Population age structure",
              "Population", "percent", "percent", -2.5, 0.8, "-youth", "core",
              "Share of the population aged 65 or older."),
        _Spec("Fertility rate, total (births per woman)", "Fertility", "Population",
              "births per woman", "log", 2.5, 0.4, "+youth", "core",
              "Number of children a woman would bear at current age-specific fertility rates."),
        _Spec("School enrollment, primary (% net)", "School enrollment", "Education", "percent",
              "percent", 2.2, 1.0, "+dev", "common",
              "Enrolled children of official primary school age as a share of that age group."),
        _Spec("School enrollment, secondary (% net)", "School enrollment", "Education",
              "percent", "percent", 0.8, 1.4, "+dev", "common",
              "Enrolled children of official secondary school age as a share of that age group."),
        _Spec("Literacy rate, adult total (% of people ages 15 and above)", "Literacy rate",
              "Education", "percent", "percent", 2.0, 1.5, "+dev", "sparse",
              "Share of people aged 15 and above who can read and write a short simple statement."),
        _Spec("Government expenditure on education (% of GDP)", "Education spending",
              "Education", "percent", "percent", -3.0, 0.4, "+dev", "common",
              "General government expenditure on education as a share of GDP."),
    ),
    "demo_gho": (
        _Spec("Life expectancy at birth (years)", "Life expectancy", "Health", "years",
              "linear", 71.0, 7.0, "+dev", "core",
              "Years a newborn would live if current mortality patterns stayed the same."),
        _Spec("Healthy life expectancy at birth (years)", "Life expectancy", "Health", "years",
              "linear", 62.0, 6.5, "+dev", "common",
              "Years a newborn can expect to live in full health."),
        _Spec("Under-five mortality rate (per 1,000 live births)", "Child mortality", "Health",
              "per 1,000 live births", "log", 25, 1.0, "-dev", "core",
              "Probability of dying before age five, per 1,000 live births."),
        _Spec("Infant mortality rate (per 1,000 live births)", "Child mortality", "Health",
              "per 1,000 live births", "log", 18, 0.95, "-dev", "core",
              "Probability of dying before age one, per 1,000 live births."),
        _Spec("Maternal mortality ratio (per 100,000 live births)", "Maternal mortality",
              "Health", "per 100,000 live births", "log", 70, 1.3, "-dev", "common",
              "Women dying from pregnancy-related causes per 100,000 live births."),
        _Spec("Prevalence of obesity among adults (%)", "Obesity", "Health", "percent",
              "percent", -1.8, 0.8, "+remote", "core",
              "Share of adults with a body mass index of 30 or more."),
        _Spec("Raised blood pressure among adults (%)", "Blood pressure", "Health", "percent",
              "percent", -1.2, 0.4, "+remote", "common",
              "Share of adults with systolic or diastolic blood pressure above 140/90 mmHg."),
        _Spec("Diabetes prevalence (% of population ages 20 to 79)", "Diabetes", "Health",
              "percent", "percent", -2.5, 0.6, "+remote", "common",
              "Share of people aged 20 to 79 who have type 1 or type 2 diabetes."),
        _Spec("Smoking prevalence, males (% of males ages 15+)", "Smoking", "Health",
              "percent", "percent", -0.8, 0.6, "-climate", "common",
              "Share of men aged 15 and over who currently smoke any tobacco product."),
        _Spec("Smoking prevalence, females (% of females ages 15+)", "Smoking", "Health",
              "percent", "percent", -2.0, 0.9, "+dev", "sparse",
              "Share of women aged 15 and over who currently smoke any tobacco product."),
        _Spec("Current health expenditure (% of GDP)", "Health spending", "Health", "percent",
              "percent", -2.7, 0.4, "+dev", "core",
              "Current public and private spending on health goods and services as % of GDP."),
        _Spec("Physicians (per 1,000 people)", "Health workforce", "Health",
              "per 1,000 people", "log", 1.5, 1.0, "+dev", "common",
              "Generalist and specialist medical practitioners per 1,000 people."),
        _Spec("Hospital beds (per 1,000 people)", "Hospital beds", "Health",
              "per 1,000 people", "log", 2.5, 0.7, "+dev", "sparse",
              "Inpatient beds in public, private, general and specialized hospitals per 1,000."),
        _Spec("Immunization, measles (% of children ages 12-23 months)", "Immunization",
              "Health", "percent", "percent", 2.3, 0.9, "+dev", "core",
              "Share of children aged 12-23 months vaccinated against measles."),
        _Spec("Immunization, DPT (% of children ages 12-23 months)", "Immunization", "Health",
              "percent", "percent", 2.4, 0.9, "+dev", "core",
              "Share of children aged 12-23 months vaccinated against diphtheria, pertussis "
              "and tetanus."),
        _Spec("Incidence of tuberculosis (per 100,000 people)", "Tuberculosis", "Health",
              "per 100,000 people", "log", 60, 1.3, "-dev", "common",
              "Estimated new and relapse tuberculosis cases per 100,000 people."),
        _Spec("Prevalence of anaemia among children (%)", "Anaemia", "Health", "percent",
              "percent", -0.5, 0.8, "-dev", "common",
              "Share of children aged 6-59 months with a haemoglobin level below 110 g/L."),
        _Spec("Suicide mortality rate (per 100,000 people)", "Suicide", "Health",
              "per 100,000 people", "log", 9, 0.5, "+dev", "sparse",
              "Suicide deaths per 100,000 people, age standardized."),
    ),
    "demo_ilo": (
        _Spec("Unemployment, total (% of labour force)", "Unemployment rate", "Economy",
              "percent", "percent", -2.6, 0.6, "+remote", "core",
              "Share of the labour force without work but available for and seeking employment."),
        _Spec("Unemployment, youth total (% of labour force ages 15-24)", "Unemployment rate",
              "Economy", "percent", "percent", -1.6, 0.7, "+remote", "common",
              "Share of the labour force aged 15-24 without work but seeking employment."),
        _Spec("Labour force participation rate, total (% of population ages 15+)",
              "Labour force participation rate", "Economy", "percent",
              "percent", 0.5, 0.4, "-dev", "core",
              "Share of the population aged 15 and older that is economically active."),
        _Spec("Labour force participation rate, female (% of female population ages 15+)",
              "Labour force participation rate", "Economy", "percent",
              "percent", 0.1, 0.6, "+dev", "common",
              "Share of women aged 15 and older who are economically active."),
        _Spec("Employment in agriculture (% of total employment)", "Employment by sector",
              "Economy", "percent", "percent", -0.8, 1.4, "-dev", "core",
              "Share of employed people working in agriculture, forestry and fishing."),
        _Spec("Employment in industry (% of total employment)", "Employment by sector",
              "Economy", "percent", "percent", -1.5, 0.4, "+dev", "core",
              "Share of employed people working in mining, manufacturing, construction and "
              "utilities."),
        _Spec("Employment in services (% of total employment)", "Employment by sector",
              "Economy", "percent", "percent", 0.3, 1.0, "+dev", "core",
              "Share of employed people working in trade, transport, finance and other services."),
        _Spec("Informal employment rate (% of total employment)", "Informal employment",
              "Economy", "percent", "percent", 0.3, 1.5, "-dev", "sparse",
              "Share of employed people whose work is not covered by formal arrangements."),
        _Spec("Youth not in education, employment or training (% of youth)", "Youth NEET",
              "Education", "percent", "percent", -1.5, 0.6, "-dev", "common",
              "Share of people aged 15-24 who are neither employed nor in education or training."),
        _Spec("Mean weekly hours worked per employed person", "Working hours", "Economy",
              "hours per week", "linear", 40.0, 4.0, "-dev", "sparse",
              "Average hours actually worked per week by employed people."),
        _Spec("Average monthly earnings of employees (USD)", "Earnings", "Economy", "USD",
              "log", 800, 1.1, "+dev", "sparse",
              "Mean gross monthly earnings of employees, converted to US dollars."),
    ),
    "demo_fao": (
        _Spec("Forest area (% of land area)", "Forest area", "Environment", "percent",
              "percent", -0.3, 1.2, "+climate", "core",
              "Share of land under natural or planted stands of trees of at least 5 metres."),
        _Spec("Agricultural land (% of land area)", "Agricultural land", "Environment",
              "percent", "percent", -0.2, 0.9, "-remote", "core",
              "Share of land area that is arable, under permanent crops or permanent pasture."),
        _Spec("Arable land (hectares per person)", "Arable land", "Environment",
              "hectares per person", "log", 0.15, 1.2, "-remote", "core",
              "Land under temporary crops, meadows, gardens or fallow, per person."),
        _Spec("Cereal yield (kg per hectare)", "Cereal yield", "Environment", "kg per hectare",
              "log", 3000, 0.8, "+dev", "common",
              "Harvested cereal production per hectare of harvested land."),
        _Spec("Fertilizer consumption (kg per hectare of arable land)", "Fertilizer use",
              "Environment", "kg per hectare", "log", 100, 1.2, "+dev", "common",
              "Nitrogen, potash and phosphate fertilizer used per hectare of arable land."),
        _Spec("Prevalence of undernourishment (% of population)", "Undernourishment",
              "Health", "percent", "percent", -2.3, 1.0, "-dev", "core",
              "Share of the population whose food intake falls short of dietary energy needs."),
        _Spec("Food imports (% of merchandise imports)", "Food imports", "Economy", "percent",
              "percent", -1.8, 0.7, "+remote", "core",
              "Food imports as a share of the value of all merchandise imports."),
        _Spec("Agriculture, value added (% of GDP)", "Agriculture value added", "Economy",
              "percent", "percent", -2.2, 0.9, "-dev", "core",
              "Net output of agriculture, forestry and fishing as a share of GDP."),
        _Spec("Annual freshwater withdrawals (% of internal resources)", "Water stress",
              "Environment", "percent", "percent", -1.5, 1.5, "-climate", "sparse",
              "Freshwater withdrawals as a share of renewable internal freshwater resources."),
        _Spec("Renewable internal freshwater resources per capita (cubic metres)",
              "Freshwater resources", "Environment", "cubic metres per person",
              "log", 3000, 1.5, "+climate", "common",
              "Internal river flows and groundwater from rainfall, per person."),
        _Spec("Capture fisheries production (tonnes)", "Fisheries", "Environment", "tonnes",
              "log", 50000, 1.8, "-remote", "common",
              "Volume of aquatic species caught for commercial, industrial and subsistence use."),
        _Spec("Food production index (2014-2016 = 100)", "Food production", "Environment",
              "index", "linear", 100.0, 8.0, "+youth", "common",
              "Food crops that are edible and contain nutrients, relative to 2014-2016."),
    ),
}
# fmt: on


def _slug(name: str) -> str:
    """Code slug of a name: 'Physicians (per 1,000 people)' -> 'physicians_per_1000_people'."""
    text = re.sub(r"(?<=\d),(?=\d)", "", name.lower()).replace("%", " percent ")
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _indicators() -> list[tuple[str, str, _Spec]]:
    """(code, dataset, spec) for every indicator, sorted by code."""
    rows = [
        (f"{dataset}-{_slug(spec.name)}", dataset, spec)
        for dataset, specs in _INDICATORS.items()
        for spec in specs
    ]
    return sorted(rows, key=lambda row: row[0])


def _countries() -> list[str]:
    """All demo country codes, sorted (SIDS is a frozenset: sort for a stable order)."""
    return sorted(SIDS | set(NON_SIDS))


def _country_factors(rng: np.random.Generator, is_sids: np.ndarray) -> np.ndarray:
    """Latent factors per (country, year, factor): a base level, a linear trend and jitter."""
    n_countries, n_years = len(is_sids), len(DEMO_YEARS)
    base = rng.normal(size=(n_countries, len(FACTORS)))
    dev, remote, climate, youth = range(len(FACTORS))
    base[:, remote] += SIDS_REMOTENESS_SHIFT * is_sids
    base[:, climate] += SIDS_CLIMATE_SHIFT * is_sids
    # Mix keeps the youth factor at unit variance while it partly mirrors development.
    mix = np.sqrt(1.0 - YOUTH_DEV_CORRELATION**2)
    base[:, youth] = YOUTH_DEV_CORRELATION * base[:, dev] + mix * base[:, youth]
    means, sds = np.array(list(FACTOR_TRENDS.values())).T
    slopes = rng.normal(means, sds, size=(n_countries, len(FACTORS)))
    years = np.arange(n_years, dtype=float) - (n_years - 1) / 2
    jitter = rng.normal(0.0, FACTOR_YEAR_NOISE, size=(n_countries, n_years, len(FACTORS)))
    return base[:, None, :] + slopes[:, None, :] * years[None, :, None] + jitter


def _loadings(rng: np.random.Generator, specs: list[_Spec]) -> np.ndarray:
    """Per (indicator, factor) weights: a strong signed driver plus weak random others."""
    loadings = rng.normal(0.0, SECONDARY_LOADING_SD, size=(len(specs), len(FACTORS)))
    strengths = rng.uniform(*DRIVER_LOADING_RANGE, size=len(specs))
    for i, spec in enumerate(specs):
        sign = -1.0 if spec.driver.startswith("-") else 1.0
        loadings[i, FACTORS.index(spec.driver[1:])] = sign * strengths[i]
    return loadings


def _latent_values(rng: np.random.Generator, factors: np.ndarray, specs: list[_Spec]) -> np.ndarray:
    """Standardised indicator scores per (country, indicator, year)."""
    n_countries, n_years, _ = factors.shape
    scores = np.einsum("cyk,ik->ciy", factors, _loadings(rng, specs))
    noise_sd = rng.uniform(*COUNTRY_NOISE_RANGE, size=len(specs))
    offsets = rng.normal(size=(n_countries, len(specs))) * noise_sd
    jitter = rng.normal(0.0, YEAR_NOISE, size=(n_countries, len(specs), n_years))
    return scores + offsets[:, :, None] + jitter


def _to_units(scores: np.ndarray, spec: _Spec) -> np.ndarray:
    """Map standardised scores onto the indicator's scale, rounded for stable CSV output."""
    if spec.kind == "percent":
        values = 100.0 / (1.0 + np.exp(-(spec.center + spec.scale * scores)))
        return np.round(values, PERCENT_DECIMALS)
    if spec.kind == "log":
        return _round_significant(spec.center * np.exp(spec.scale * scores))
    return _round_significant(spec.center + spec.scale * scores)


def _round_significant(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """Round to significant digits; multiply or divide by exact powers of ten to avoid drift."""
    magnitude = np.floor(np.log10(np.abs(np.where(values == 0, 1.0, values))))
    decimals = digits - 1 - magnitude
    power = 10.0 ** np.abs(decimals)
    return np.where(
        decimals >= 0, np.round(values * power) / power, np.round(values / power) * power
    )


def _missing_rates(
    rng: np.random.Generator, is_sids: np.ndarray, dev: np.ndarray, specs: list[_Spec]
) -> np.ndarray:
    """Missing rate per (country, indicator): indicator base rate times country propensity."""
    base = np.array([rng.uniform(*MISSING_RATE_RANGES[spec.tier]) for spec in specs])
    noise = rng.normal(0.0, COUNTRY_MISSING_SD, size=len(is_sids))
    country = np.where(is_sids, SIDS_MISSING_FACTOR, NON_SIDS_MISSING_FACTOR) * np.exp(
        noise - DEV_MISSING_SLOPE * dev
    )
    return np.clip(country[:, None] * base[None, :], 0.0, 0.97)


def _missing_mask(
    rng: np.random.Generator, is_sids: np.ndarray, dev: np.ndarray, specs: list[_Spec]
) -> np.ndarray:
    """True where a (country, indicator, year) value is missing."""
    rate = _missing_rates(rng, is_sids, dev, specs)[:, :, None]
    n_countries, n_indicators, n_years = len(is_sids), len(specs), len(DEMO_YEARS)
    shape = (n_countries, n_indicators, 1)
    years = np.arange(n_years)[None, None, :]
    whole = rng.random(shape) < WHOLE_SERIES_SHARE * rate
    late_start = (rng.random(shape) < LATE_START_SHARE * rate) & (
        years < rng.integers(1, MAX_LATE_START_YEARS + 1, size=shape)
    )
    # Recent years lag behind in reporting, so the series' tail goes missing.
    lag = (rng.random(shape) < REPORTING_LAG_SHARE * rate) & (
        years >= n_years - rng.integers(1, MAX_REPORTING_LAG_YEARS + 1, size=shape)
    )
    ramp = 0.5 + years / (n_years - 1)
    gaps = rng.random((n_countries, n_indicators, n_years)) < GAP_SHARE * rate * ramp
    return whole | late_start | lag | gaps


def _data_frame(countries: list[str], codes: list[str], values: np.ndarray) -> pd.DataFrame:
    """Long (country, indicator) rows with one column per year; all-missing rows dropped."""
    n_countries, n_indicators, n_years = values.shape
    by_indicator = values.transpose(1, 0, 2).reshape(-1, n_years)
    frame = pd.DataFrame(by_indicator, columns=[str(year) for year in DEMO_YEARS])
    frame.insert(0, DATA_ID_COLUMNS[0], np.tile(countries, n_indicators))
    frame.insert(1, DATA_ID_COLUMNS[1], np.repeat(codes, n_countries))
    observed = frame[[str(year) for year in DEMO_YEARS]].notna().any(axis=1)
    return frame[observed].reset_index(drop=True)


def _indicator_meta(indicators: list[tuple[str, str, _Spec]]) -> pd.DataFrame:
    """One metadata row per indicator, in the indicatorMeta.csv layout."""
    rows = [
        (code, s.name, s.dimension, s.category, dataset, s.units, s.definition, SOURCE)
        for code, dataset, s in indicators
    ]
    return pd.DataFrame(rows, columns=list(INDICATOR_META_COLUMNS))


def _dataset_meta() -> pd.DataFrame:
    """One row per dataset, in the datasetMeta.csv layout."""
    return pd.DataFrame(list(DATASETS.items()), columns=list(DATASET_META_COLUMNS))


def build_demo_dataset(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Build the (indicator_data, indicator_meta, dataset_meta) frames in the CSV layout."""
    rng = np.random.default_rng(seed)
    countries = _countries()
    indicators = _indicators()
    codes = [code for code, _, _ in indicators]
    specs = [spec for _, _, spec in indicators]
    is_sids = np.array([country in SIDS for country in countries])
    factors = _country_factors(rng, is_sids)
    scores = _latent_values(rng, factors, specs)
    values = np.stack([_to_units(scores[:, i, :], spec) for i, spec in enumerate(specs)], axis=1)
    dev = factors[:, :, FACTORS.index("dev")].mean(axis=1)
    values[_missing_mask(rng, is_sids, dev, specs)] = np.nan
    return _data_frame(countries, codes, values), _indicator_meta(indicators), _dataset_meta()


def write_demo_dataset(folder: Path, seed: int = 0) -> None:
    """Write the three demo CSVs into folder (created if needed); same seed, same bytes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in zip(DATASET_FILES, build_demo_dataset(seed), strict=True):
        frame.to_csv(folder / name, index=False, lineterminator="\n")


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line: target folder and --seed."""
    parser = argparse.ArgumentParser(description="Write the synthetic SIDS demo dataset.")
    parser.add_argument("folder", type=Path, help="target folder for the three CSV files")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = _parse_args()
    write_demo_dataset(args.folder, seed=args.seed)
