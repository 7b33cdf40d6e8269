using System.Text;

namespace CatalogSample;

/// <summary>A plain-text table: a label column on the left, right-aligned value columns, optional section titles.</summary>
public sealed class TextTable
{
    private readonly string[] _headers;
    private readonly List<(string Label, string[]? Cells)> _rows = [];

    public TextTable(params string[] headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        _headers = headers;
    }

    public void AddSection(string title) => _rows.Add((title, null));

    public void AddRow(string label, params string[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != _headers.Length)
        {
            throw new ArgumentException($"Expected {_headers.Length} cells, got {cells.Length}.", nameof(cells));
        }

        _rows.Add(("  " + label, cells));
    }

    public override string ToString()
    {
        const string Gap = "   ";
        var labelWidth = _rows.Where(r => r.Cells is not null).Select(r => r.Label.Length).DefaultIfEmpty(0).Max();
        var widths = new int[_headers.Length];
        for (var c = 0; c < widths.Length; c++)
        {
            widths[c] = _rows.Where(r => r.Cells is not null).Select(r => r.Cells![c].Length).Append(_headers[c].Length).Max();
        }

        var builder = new StringBuilder();
        builder.Append(new string(' ', labelWidth));
        for (var c = 0; c < widths.Length; c++)
        {
            builder.Append(Gap).Append(_headers[c].PadLeft(widths[c]));
        }

        var lineWidth = builder.Length;
        builder.AppendLine();
        builder.AppendLine(new string('-', lineWidth));
        foreach (var (label, cells) in _rows)
        {
            if (cells is null)
            {
                builder.AppendLine(label);
                continue;
            }

            builder.Append(label.PadRight(labelWidth));
            for (var c = 0; c < widths.Length; c++)
            {
                builder.Append(Gap).Append(cells[c].PadLeft(widths[c]));
            }

            builder.AppendLine();
        }

        return builder.ToString();
    }
}
