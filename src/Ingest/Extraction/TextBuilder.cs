using System.Text;

namespace Rag.Ingest;

/// <summary>
/// Accumulates extracted text the way a browser lays it out: runs of whitespace collapse to one
/// space, block boundaries become "\n\n", table cells "\t", and headings open sections whose path
/// is the chain of enclosing headings. Breaks are lazy, so consecutive blocks never stack blank lines.
/// The text is capped at <see cref="ExtractionLimits.MaxChars"/>: writing past it throws, so a hostile file
/// stops while it is being read rather than after it has filled memory.
/// </summary>
internal sealed class TextBuilder(ExtractionLimits? limits = null)
{
    enum Break { None, Space, Cell, Line, Paragraph }

    readonly int _maxChars = (limits ?? ExtractionLimits.Default).MaxChars;
    readonly StringBuilder _text = new();
    readonly List<Section> _sections = [];
    readonly List<PageSpan> _pages = [];
    readonly List<RecordBlock> _records = [];
    int _recordStart = -1;
    readonly List<(int Level, string Title)> _headings = [];
    Break _pending;
    string? _sectionPath;
    int _sectionStart;
    int _page;
    int _pageStart;

    public int Length => _text.Length;

    /// <summary>Appends text, collapsing whitespace unless preserve is set (pre, code).</summary>
    public void Write(ReadOnlySpan<char> s, bool preserve = false)
    {
        foreach (var c in s)
        {
            if (!preserve && char.IsWhiteSpace(c))
            {
                if (_pending == Break.None) _pending = Break.Space;
                continue;
            }
            if (c == '\r') continue;
            Flush();
            _text.Append(c);
        }
        if (_text.Length > _maxChars) throw ExtractionLimits.TooMuchText(_maxChars);
    }

    /// <summary>
    /// One record (a spreadsheet row) as its own paragraph, whitespace collapsed so it holds no paragraph
    /// break; consecutive records form a <see cref="RecordBlock"/>, which a heading or a page ends.
    /// </summary>
    public void Record(string text)
    {
        if (TextDecoding.IsBlank(text)) return;
        Paragraph();
        Flush();
        if (_recordStart < 0) _recordStart = _text.Length;
        Write(text);
        Paragraph();
    }

    public void Space() => Raise(Break.Space);
    public void Cell() => Raise(Break.Cell);
    public void Line() => Raise(Break.Line);
    public void Paragraph() => Raise(Break.Paragraph);

    /// <summary>Starts a section: headings at the same or a deeper level are closed first.</summary>
    public void Heading(int level, string title)
    {
        var clean = string.Join(' ', title.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (clean.Length == 0) return;
        CloseRecords();
        CloseSection();
        while (_headings.Count > 0 && _headings[^1].Level >= level) _headings.RemoveAt(_headings.Count - 1);
        _headings.Add((level, clean));
        Paragraph();
        Flush();
        _sectionStart = _text.Length;
        _sectionPath = string.Join(" > ", _headings.Select(h => h.Title));
        _text.Append(clean);
        if (_text.Length > _maxChars) throw ExtractionLimits.TooMuchText(_maxChars);
        Paragraph();
    }

    /// <summary>Starts page number (1-based); the previous page ends here.</summary>
    public void Page(int number)
    {
        CloseRecords();
        ClosePage();
        Paragraph();
        Flush();
        _page = number;
        _pageStart = _text.Length;
    }

    /// <summary>The title the document declares (see <see cref="ExtractedText.Title"/>).</summary>
    public string? Title { get; set; }

    public ExtractedText Build()
    {
        CloseRecords();
        CloseSection();
        ClosePage();
        var title = Title is null ? null : string.Join(' ', Title.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return new ExtractedText(_text.ToString(), _sections.ToArray(), _pages.ToArray())
        {
            Title = string.IsNullOrEmpty(title) ? null : title,
            Records = _records.ToArray(),
        };
    }

    void Raise(Break b)
    {
        if (b > _pending) _pending = b;
    }

    void Flush()
    {
        if (_text.Length > 0)
        {
            switch (_pending)
            {
                case Break.Space: _text.Append(' '); break;
                case Break.Cell: _text.Append('\t'); break;
                case Break.Line: _text.Append('\n'); break;
                // A page that opens with a heading flushes twice at one spot: one blank line, not two.
                case Break.Paragraph when !EndsWithBlankLine(): _text.Append("\n\n"); break;
            }
        }
        _pending = Break.None;
    }

    void CloseSection()
    {
        if (_sectionPath is not null && _text.Length > _sectionStart)
            _sections.Add(new Section(_sectionPath, _sectionStart, _text.Length));
        _sectionPath = null;
    }

    bool EndsWithBlankLine() => _text.Length >= 2 && _text[^1] == '\n' && _text[^2] == '\n';

    void CloseRecords()
    {
        if (_recordStart >= 0 && _text.Length > _recordStart) _records.Add(new RecordBlock(_recordStart, _text.Length));
        _recordStart = -1;
    }

    void ClosePage()
    {
        if (_page > 0 && _text.Length >= _pageStart)
            _pages.Add(new PageSpan(_page, _pageStart, _text.Length));
        _page = 0;
    }
}
