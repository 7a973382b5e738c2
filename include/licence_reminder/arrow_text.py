"""A pandas column as one Arrow string array, for the code that makes text column-wise (identity
numbers' masks and digests, rows' text for the hash and the file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


def string_array(values: pd.Series, *, dates: bool = False) -> pa.Array | None:
    """The column as one pyarrow string array if it holds text already (pandas ``str``, or Python
    strings and nulls), else None. With ``dates``, an Arrow date32 column counts too, as ISO text."""
    # pandas and pyarrow only when a column is made text: importing this module stays cheap
    import pandas as pd
    import pyarrow as pa

    if isinstance(values.dtype, pd.StringDtype):
        array = pa.array(values.array)
    elif (
        dates
        and isinstance(values.dtype, pd.ArrowDtype)
        and pa.types.is_date32(values.dtype.pyarrow_dtype)
    ):
        array = pa.array(values.array).cast(pa.string())  # ISO, as date.isoformat()
    elif values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in (
        "string",
        "empty",
    ):
        array = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    else:
        return None
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.string()) if array.type != pa.string() else array
