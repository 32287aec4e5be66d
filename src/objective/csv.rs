//! A small CSV reader for benchmark and lookup tables.

use std::path::Path;

use super::ObjectiveError;

/// One data record of a [`CsvTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRecord {
    /// 1-based line on which the record starts.
    pub line: usize,
    /// The fields, one per header column.
    pub fields: Vec<String>,
}

/// A CSV file with a header row: comma separated, fields optionally in double quotes
/// (a quoted field may hold commas, newlines and `""` for a quote). Unquoted fields are
/// trimmed of surrounding spaces; empty lines are skipped; CRLF is accepted.
///
/// Every error names the file, the line and the column.
///
/// ```
/// use tnd_nas::objective::CsvTable;
/// let t = CsvTable::parse("arch,acc\n\"|a~0|,x\",91.5\n", "inline")?;
/// assert_eq!(t.header(), ["arch", "acc"]);
/// assert_eq!(t.rows()[0].fields[0], "|a~0|,x");
/// assert_eq!(t.numbers("acc")?, vec![91.5]);
/// let err = CsvTable::parse("a,b\n1\n", "inline").unwrap_err();
/// assert_eq!(err.to_string(), "inline, line 2, column field 2: expected 2 fields, found 1");
/// # Ok::<(), tnd_nas::objective::ObjectiveError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvTable {
    source: String,
    header: Vec<String>,
    rows: Vec<CsvRecord>,
}

impl CsvTable {
    /// Reads and parses a file.
    ///
    /// # Errors
    /// [`ObjectiveError::Io`] if the file cannot be read, [`ObjectiveError::Csv`] if it
    /// is malformed.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ObjectiveError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ObjectiveError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses CSV text; `source` names it in errors.
    ///
    /// # Errors
    /// [`ObjectiveError::Csv`]: an unterminated quote, text after a closing quote, a
    /// quote inside an unquoted field, a record with the wrong number of fields, an
    /// empty or repeated header name, or no header at all.
    pub fn parse(text: &str, source: &str) -> Result<Self, ObjectiveError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let err = |line: usize, field: usize, message: String| ObjectiveError::Csv {
            file: source.to_string(),
            line,
            column: format!("field {field}"),
            message,
        };
        if text.contains('\r') && !text.contains('\n') {
            return Err(err(
                1,
                1,
                "lines end with a carriage return alone (classic Mac line ends): save the \
                 file with LF or CRLF line ends"
                    .into(),
            ));
        }
        let records = split_records(text, &err)?;
        let mut records = records.into_iter();
        let Some(header) = records.next() else {
            return Err(err(1, 1, "no header row".into()));
        };
        for (i, name) in header.fields.iter().enumerate() {
            if name.is_empty() {
                return Err(err(
                    header.line,
                    i + 1,
                    "empty column name in the header".into(),
                ));
            }
            if header.fields[..i].contains(name) {
                return Err(err(
                    header.line,
                    i + 1,
                    format!("column `{name}` appears twice in the header"),
                ));
            }
        }
        let rows: Vec<CsvRecord> = records.collect();
        for row in &rows {
            if row.fields.len() != header.fields.len() {
                return Err(err(
                    row.line,
                    row.fields.len().min(header.fields.len()) + 1,
                    format!(
                        "expected {} fields, found {}",
                        header.fields.len(),
                        row.fields.len()
                    ),
                ));
            }
        }
        Ok(Self {
            source: source.to_string(),
            header: header.fields,
            rows,
        })
    }

    /// The file name (or source name) used in errors.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The column names.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The data records (header excluded).
    pub fn rows(&self) -> &[CsvRecord] {
        &self.rows
    }

    /// Number of data records.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no data records.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The index of a column.
    ///
    /// # Errors
    /// [`ObjectiveError::UnknownColumn`], listing the columns there are.
    pub fn column(&self, name: &str) -> Result<usize, ObjectiveError> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| ObjectiveError::UnknownColumn {
                file: self.source.clone(),
                column: name.to_string(),
                available: shortened(&self.header.join(", ")),
            })
    }

    /// Every value of a column, parsed as a finite number.
    ///
    /// # Errors
    /// [`ObjectiveError::UnknownColumn`], or [`ObjectiveError::Csv`] naming the first
    /// value that is not a finite number.
    pub fn numbers(&self, column: &str) -> Result<Vec<f64>, ObjectiveError> {
        let c = self.column(column)?;
        self.rows
            .iter()
            .map(|row| {
                let text = &row.fields[c];
                match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(v),
                    _ => Err(self.error(row.line, c, format!("`{text}` is not a finite number"))),
                }
            })
            .collect()
    }

    /// An error at `line`, column index `column`, naming the column by its header.
    pub(crate) fn error(&self, line: usize, column: usize, message: String) -> ObjectiveError {
        let message = shortened(&message);
        ObjectiveError::Csv {
            file: self.source.clone(),
            line,
            column: self.header.get(column).map_or_else(
                || format!("field {}", column + 1),
                |h| format!("`{}`", shortened(h)),
            ),
            message,
        }
    }
}

fn finish(field: String, quoted: bool) -> String {
    if quoted {
        field
    } else {
        field.trim().to_string()
    }
}

/// An error at `line`, field number `field`.
type CsvErr<'a> = &'a dyn Fn(usize, usize, String) -> ObjectiveError;

/// Splits CSV text into records (blank lines dropped), keeping each record's first line.
fn split_records(text: &str, err: CsvErr<'_>) -> Result<Vec<CsvRecord>, ObjectiveError> {
    let mut records: Vec<CsvRecord> = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        loop {
            let field_no = fields.len() + 1;
            match chars.next() {
                None => {
                    fields.push(finish(field, quoted));
                    break;
                }
                Some('"') if field.trim().is_empty() && !quoted => {
                    field = read_quoted(&mut chars, &mut line, field_no, err)?;
                    quoted = true;
                }
                Some('"') => {
                    return Err(err(
                        line,
                        field_no,
                        "quote inside an unquoted field (quote the whole field and double inner quotes)".into(),
                    ));
                }
                Some(',') => {
                    fields.push(finish(std::mem::take(&mut field), quoted));
                    quoted = false;
                }
                Some('\r') if chars.peek() == Some(&'\n') => {}
                Some('\n') => {
                    line += 1;
                    fields.push(finish(field, quoted));
                    break;
                }
                Some(c) => field.push(c),
            }
        }
        let blank = fields.len() == 1 && fields[0].is_empty() && !quoted;
        if !blank {
            records.push(CsvRecord {
                line: start,
                fields,
            });
        }
    }
    Ok(records)
}

/// Reads a quoted field after its opening quote: doubled quotes are one quote, line
/// breaks count; only spaces, then a separator or the end of the record, may follow.
fn read_quoted(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    line: &mut usize,
    field_no: usize,
    err: CsvErr<'_>,
) -> Result<String, ObjectiveError> {
    let mut field = String::new();
    let open = *line;
    loop {
        match chars.next() {
            None => return Err(err(open, field_no, "unterminated quoted field".into())),
            Some('"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            Some('"') => break,
            Some(c) => {
                if c == '\n' {
                    *line += 1;
                }
                field.push(c);
            }
        }
    }
    while chars.peek() == Some(&' ') || chars.peek() == Some(&'\t') {
        chars.next();
    }
    match chars.peek() {
        None | Some(',') | Some('\n') | Some('\r') => Ok(field),
        Some(c) => Err(err(
            *line,
            field_no,
            format!("unexpected `{c}` after a closing quote"),
        )),
    }
}

/// `text`, cut to 200 characters with an ellipsis: an error line quotes a file, it does
/// not reproduce it.
pub(crate) fn shortened(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_commas_newlines_and_crlf() {
        let text = "name,value\r\n\"a,b\",1\r\n\"say \"\"hi\"\"\",2\n\n\"multi\nline\",3\n  spaced  , 4 \n";
        let t = CsvTable::parse(text, "t.csv").unwrap();
        assert_eq!(t.len(), 4);
        assert_eq!(t.rows()[0].fields, ["a,b", "1"]);
        assert_eq!(t.rows()[1].fields, ["say \"hi\"", "2"]);
        assert_eq!(t.rows()[2].fields, ["multi\nline", "3"]);
        assert_eq!(t.rows()[2].line, 5);
        assert_eq!(t.rows()[3].line, 7);
        assert_eq!(t.rows()[3].fields, ["spaced", "4"]);
        assert_eq!(t.numbers("value").unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn nb201_strings_unquoted() {
        let t = CsvTable::parse("arch,acc\n|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|,93.1\n", "x")
            .unwrap();
        assert_eq!(
            t.rows()[0].fields[0],
            "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
        );
    }

    #[test]
    fn errors_name_file_line_column() {
        let e = CsvTable::parse("a,b\n1,2\n\"open,3\n", "f.csv").unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.csv, line 3, column field 1: unterminated quoted field"
        );
        let e = CsvTable::parse("a,b\n1,\"x\"y\n", "f.csv").unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.csv, line 2, column field 2: unexpected `y` after a closing quote"
        );
        let e = CsvTable::parse("a,b\n1,x\"y\n", "f.csv").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("f.csv, line 2, column field 2: quote inside")
        );
        let e = CsvTable::parse("a,a\n", "f.csv").unwrap_err();
        assert!(e.to_string().contains("column field 2"));
        let t = CsvTable::parse("a,b\n1,2\n3,zz\n", "f.csv").unwrap();
        assert_eq!(
            t.numbers("b").unwrap_err().to_string(),
            "f.csv, line 3, column `b`: `zz` is not a finite number"
        );
        assert!(matches!(
            t.numbers("c"),
            Err(ObjectiveError::UnknownColumn { .. })
        ));
        assert!(CsvTable::parse("", "f.csv").is_err());
        assert!(matches!(
            CsvTable::from_path("/nonexistent/x.csv"),
            Err(ObjectiveError::Io { .. })
        ));
    }
}
