namespace CatalogSample;

public enum OperationKind
{
    /// <summary>Reads one product (a product page).</summary>
    Read,

    /// <summary>Reads 10-20 products at once (a category page, a basket).</summary>
    BatchRead,

    /// <summary>Reads a product and saves it with a new price.</summary>
    UpdatePrice,

    /// <summary>Reads a product and saves it with a new stock level.</summary>
    UpdateStock,
}
