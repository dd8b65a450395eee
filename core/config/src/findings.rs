//! The problems met while reading, kept within [`Limits::reported`].
//!
//! A broken file can produce one problem per byte; storing them all would
//! cost more memory than the file itself. The first `reported` errors and the
//! first `reported` warnings are kept, the others only counted.

use alloc::vec::Vec;

use crate::error::{Problem, Severity};
use crate::limits::Limits;
use crate::span::Span;

/// A located problem found while reading.
pub type Found = (Span, Problem, Severity);

/// Kept problems plus counts of the dropped ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    kept: Vec<Found>,
    cap: usize,
    errors: usize,
    warnings: usize,
    dropped_errors: usize,
    dropped_warnings: usize,
    /// Where the first dropped problem is, for the summary.
    first_dropped: Option<Span>,
}

impl Findings {
    /// An empty set keeping at most `limits.reported` of each severity.
    pub fn new(limits: &Limits) -> Self {
        Findings {
            cap: limits.reported,
            ..Findings::default()
        }
    }

    /// Records a problem (kept or counted).
    pub fn push(&mut self, found: Found) {
        let (seen, dropped) = match found.2 {
            Severity::Error => (&mut self.errors, &mut self.dropped_errors),
            Severity::Warning => (&mut self.warnings, &mut self.dropped_warnings),
            // Notes are capped where they are made (the preprocessor).
            Severity::Note => {
                self.kept.push(found);
                return;
            }
        };
        *seen = seen.saturating_add(1);
        if *seen > self.cap {
            *dropped = dropped.saturating_add(1);
            self.first_dropped.get_or_insert(found.0);
        } else {
            self.kept.push(found);
        }
    }

    /// An error at `span`.
    pub fn error(&mut self, span: Span, problem: Problem) {
        self.push((span, problem, Severity::Error));
    }

    /// A warning at `span`.
    pub fn warn(&mut self, span: Span, problem: Problem) {
        self.push((span, problem, Severity::Warning));
    }

    /// True if any error was recorded (kept or not).
    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }

    /// The kept problems sorted by position, then one
    /// [`Problem::MoreProblems`] if any were dropped.
    pub fn into_sorted(self) -> Vec<Found> {
        let mut out = self.kept;
        // Stable: problems at one position stay in the order found.
        out.sort_by_key(|(span, _, _)| *span);
        if let Some(at) = self.first_dropped {
            let severity = if self.dropped_errors > 0 {
                Severity::Error
            } else {
                Severity::Warning
            };
            out.push((
                at,
                Problem::MoreProblems {
                    errors: self.dropped_errors,
                    warnings: self.dropped_warnings,
                },
                severity,
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_of_each_severity_and_counts_the_rest() {
        let mut f = Findings::new(&Limits {
            reported: 2,
            ..Limits::DEFAULT
        });
        let at = |line| Span {
            file: 0,
            line,
            col: 1,
        };
        for line in (1..=5).rev() {
            f.error(at(line), Problem::UnexpectedClose);
        }
        f.warn(at(9), Problem::UnexpectedOpen);
        assert!(f.has_errors());
        let out = f.into_sorted();
        let lines: Vec<u32> = out.iter().map(|(s, _, _)| s.line).collect();
        assert_eq!(lines, [4, 5, 9, 3]);
        assert_eq!(
            out[3].1,
            Problem::MoreProblems {
                errors: 3,
                warnings: 0
            }
        );
        assert_eq!(out[3].2, Severity::Error);
    }
}
