"""Input checks and the feature matrix K-Means clusters on.

The matrix has one row per customer and one column per feature, in the order of
:data:`RFM_COLUMNS` followed by ``payment`` when requested.  Column ``j`` is

.. math::

    z_{ij} = \\frac{\\log(1 + x_{ij}) - \\mu_j}{\\sigma_j}

where :math:`\\mu_j` and :math:`\\sigma_j` are the mean and the population standard deviation
(``ddof=0``) of :math:`\\log(1 + x_{\\cdot j})` over all customers.  A column whose values are all
equal has no spread to standardise by and becomes all zeros.  The logarithm tames the long right
tails of recency, frequency and spend, so one huge customer cannot pull a centroid of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from lealta.errors import InvalidInput, MissingColumn

RFM_COLUMNS: tuple[str, ...] = ("recency", "frequency", "monetary")
PAYMENT_COLUMN = "payment"

FloatMatrix = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# column -> (smallest allowed value, whether the bound itself is allowed, what it means)
_BOUNDS: dict[str, tuple[float, bool, str]] = {
    "recency": (0.0, True, "days since the last purchase, at least 0"),
    "frequency": (1.0, True, "number of purchases, at least 1"),
    "monetary": (0.0, False, "average spend, greater than 0"),
    "revenue": (0.0, True, "total spent, at least 0"),
    PAYMENT_COLUMN: (0.0, True, "average days late, at least 0"),
}


@dataclass(frozen=True)
class Features:
    """The clustering input derived from a customer table.

    Attributes
    ----------
    matrix
        ``(n_customers, n_features)`` standardised log features, see the module docstring.
    columns
        Feature names, one per matrix column.
    values
        The untransformed feature columns (``payment`` already imputed), for profiles and names.
    notes
        Plain-words remarks about what was done to the data, e.g. imputation.
    """

    matrix: FloatMatrix
    columns: tuple[str, ...]
    values: pd.DataFrame
    notes: tuple[str, ...]


def feature_columns(*, use_payment: bool) -> tuple[str, ...]:
    """Return the feature names, in matrix order, with ``payment`` last when used."""
    return (*RFM_COLUMNS, PAYMENT_COLUMN) if use_payment else RFM_COLUMNS


def validate_customers(customers: pd.DataFrame, *, use_payment: bool) -> None:
    """Check a customer table before clustering.

    Parameters
    ----------
    customers
        One row per customer with ``customer_id``, ``recency``, ``frequency``, ``monetary``,
        ``revenue`` and, if ``use_payment``, ``payment``.
    use_payment
        Whether the ``payment`` column is required.

    Raises
    ------
    MissingColumn
        A required column is absent.
    InvalidInput
        The table is empty, a customer id is missing or repeated, a value is non-numeric,
        missing, infinite or below its bound (``payment`` alone may be missing), or the
        revenue sums to 0.
    """
    required = ("customer_id", *feature_columns(use_payment=use_payment), "revenue")
    for column in required:
        if column not in customers.columns:
            raise MissingColumn(f"the customer table has no {column!r} column", field=column)
    if len(customers) == 0:
        raise InvalidInput("there are no customers to cluster", field="customers")
    ids = customers["customer_id"]
    if ids.isna().any():
        raise InvalidInput("some customers have no customer_id", field="customer_id")
    if ids.duplicated().any():
        first = ids[ids.duplicated()].iloc[0]
        raise InvalidInput(f"customer_id {first!r} appears more than once", field="customer_id")
    for column in required[1:]:
        _check_numeric(customers[column], column, allow_missing=column == PAYMENT_COLUMN)
    if float(customers["revenue"].sum()) <= 0.0:
        raise InvalidInput("revenue sums to 0, so revenue shares are undefined", field="revenue")


def _check_numeric(series: pd.Series, column: str, *, allow_missing: bool) -> None:
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise InvalidInput(f"{column} must be numeric, not {series.dtype}", field=column)
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    present = values[~np.isnan(values)]
    if not allow_missing and present.size < values.size:
        raise InvalidInput(f"{column} is missing for some customers", field=column)
    lowest, inclusive, meaning = _BOUNDS[column]
    too_low = present < lowest if inclusive else present <= lowest
    if np.isinf(present).any() or too_low.any():
        raise InvalidInput(f"{column} must be finite {meaning}", field=column)


def impute_payment(payment: pd.Series) -> tuple[pd.Series, str | None]:
    """Fill missing payment values with the median of the known ones.

    Parameters
    ----------
    payment
        Average days late per customer; ``NaN`` where unknown.

    Returns
    -------
    tuple
        The filled series (float) and a note saying how many values were filled and with what,
        or ``None`` if nothing was missing.

    Raises
    ------
    InvalidInput
        No customer has a payment value, so there is no median to fill with.
    """
    filled = payment.astype(np.float64)
    missing = int(filled.isna().sum())
    if missing == 0:
        return filled, None
    if missing == len(filled):
        raise InvalidInput("payment is missing for every customer", field=PAYMENT_COLUMN)
    median = float(filled.median())
    note = (
        f"payment was missing for {missing:,} of {len(filled):,} customers "
        f"({missing / len(filled):.1%}); filled with the median, {median:g} days late"
    )
    return filled.fillna(median), note


def log_transform(values: pd.DataFrame) -> FloatMatrix:
    """Return ``log(1 + x)`` of every column as a float64 matrix (columns in frame order)."""
    logged: FloatMatrix = np.log1p(values.to_numpy(dtype=np.float64))
    return logged


def standardise(matrix: FloatMatrix) -> FloatMatrix:
    """Turn every column into z-scores, ``(x - mean) / std`` with ``ddof=0``.

    A column whose values are all equal becomes all zeros instead of ``0 / 0``.  Constancy is
    tested exactly (``max == min``) because a rounded standard deviation of a constant column
    can be a tiny non-zero number that would blow rounding noise up to unit scale.
    """
    centred = matrix - matrix.mean(axis=0)
    spread = matrix.std(axis=0)
    constant = matrix.max(axis=0) == matrix.min(axis=0)
    safe_spread = np.where(constant, 1.0, spread)
    scaled: FloatMatrix = np.where(constant, 0.0, centred / safe_spread)
    return scaled


def build_features(customers: pd.DataFrame, *, use_payment: bool) -> Features:
    """Validate ``customers`` and build its standardised log feature matrix.

    Parameters
    ----------
    customers
        See :func:`validate_customers`.
    use_payment
        Add the ``payment`` dimension (RFMP); missing values are filled with the median.

    Returns
    -------
    Features
        ``matrix[i, j] = (log1p(x[i, j]) - mean_j) / std_j`` (0 for a constant column).
    """
    validate_customers(customers, use_payment=use_payment)
    columns = feature_columns(use_payment=use_payment)
    values = customers.loc[:, list(columns)].astype(np.float64).reset_index(drop=True)
    notes: list[str] = []
    if use_payment:
        values[PAYMENT_COLUMN], note = impute_payment(values[PAYMENT_COLUMN])
        if note is not None:
            notes.append(note)
    matrix = standardise(log_transform(values))
    return Features(matrix=matrix, columns=columns, values=values, notes=tuple(notes))
