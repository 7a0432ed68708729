//! Lexer and recursive-descent parser: text in, syntax tree out.
//!
//! Parsing finishes before anything is evaluated, so a malformed expression
//! always reports its syntax error rather than whatever arithmetic error its
//! valid prefix would hit. Every place where the grammar recurses goes through
//! [`Parser::nested`], which counts the level and refuses to go past
//! [`MAX_NESTING_DEPTH`]; that bound, plus the input length limit checked by
//! the caller, is what keeps hostile input from exhausting the stack.

use std::fmt;

use super::{CalcError, MAX_NESTING_DEPTH};

/// Functions the evaluator knows, in the order error messages list them.
pub(super) const FUNCTIONS: [(&str, Func); 10] = [
    ("sqrt", Func::Sqrt),
    ("abs", Func::Abs),
    ("ln", Func::Ln),
    ("log10", Func::Log10),
    ("exp", Func::Exp),
    ("min", Func::Min),
    ("max", Func::Max),
    ("round", Func::Round),
    ("floor", Func::Floor),
    ("ceil", Func::Ceil),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Func {
    Sqrt,
    Abs,
    Ln,
    Log10,
    Exp,
    Min,
    Max,
    Round,
    Floor,
    Ceil,
}

impl Func {
    /// Most arguments the function takes (`None`: any number); every
    /// function needs at least one, which the grammar already ensures.
    fn max_args(self) -> Option<usize> {
        match self {
            Func::Min | Func::Max => None,
            Func::Round => Some(2),
            _ => Some(1),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Constant {
    Pi,
    E,
}

#[derive(Debug)]
pub(super) enum Node {
    /// Number text as written; converted at evaluation so that an out-of-range
    /// literal cannot mask a syntax error later in the input.
    Literal(String),
    Constant(Constant),
    Neg(Box<Node>),
    /// A run of same-precedence operators, kept flat so that a long sum
    /// like `1+1+...+1` does not make the tree (and evaluation) deep.
    Chain(Box<Node>, Vec<(BinOp, Node)>),
    Power(Box<Node>, Box<Node>),
    /// Every function takes at least one argument, so the first is held apart.
    Call(Func, Box<Node>, Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(String),
    Name(String),
    Op(char),
    Open,
    Close,
    Comma,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Num(s) | Tok::Name(s) => f.write_str(s),
            Tok::Op(c) => write!(f, "{c}"),
            Tok::Open => f.write_str("("),
            Tok::Close => f.write_str(")"),
            Tok::Comma => f.write_str(","),
        }
    }
}

/// A token and its 1-based character position.
type Spanned = (Tok, usize);

pub(super) fn parse(input: &str) -> Result<Node, CalcError> {
    let toks = lex(input)?;
    let mut p = Parser {
        toks,
        at: 0,
        depth: 0,
        end: input.chars().count() + 1,
    };
    if p.toks.is_empty() {
        return Err(CalcError::Empty);
    }
    let node = p.expr()?;
    match p.next() {
        None => Ok(node),
        Some(tok) => Err(after_operand(tok)),
    }
}

fn lex(input: &str) -> Result<Vec<Spanned>, CalcError> {
    // The caller has capped the length, so holding the chars costs little and
    // lets the number scanner look ahead freely.
    let chars: Vec<char> = input.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        i += 1;
        let tok = match c {
            c if c.is_whitespace() => continue,
            '0'..='9' | '.' => {
                i = scan_number(&chars, start)?;
                Tok::Num(chars.iter().skip(start).take(i - start).collect())
            }
            'a'..='z' | 'A'..='Z' | '_' => {
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                Tok::Name(chars.iter().skip(start).take(i - start).collect())
            }
            '+' | '-' | '*' | '/' | '%' | '^' => Tok::Op(c),
            '(' => Tok::Open,
            ')' => Tok::Close,
            ',' => Tok::Comma,
            ch => return Err(CalcError::UnexpectedChar { ch, pos: start + 1 }),
        };
        toks.push((tok, start + 1));
    }
    Ok(toks)
}

/// Returns the index just past the number starting at `start`.
fn scan_number(chars: &[char], start: usize) -> Result<usize, CalcError> {
    let digits = |mut i: usize| {
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut i = digits(start);
    let mut has_digits = i > start;
    if chars.get(i) == Some(&'.') {
        let frac = i + 1;
        i = digits(frac);
        has_digits |= i > frac;
    }
    if !has_digits {
        return Err(CalcError::UnexpectedChar {
            ch: '.',
            pos: start + 1,
        });
    }
    // An exponent needs digits after it; otherwise `2e` is 2 followed by the
    // constant e, which the parser then reports as a missing operator.
    if matches!(chars.get(i), Some('e' | 'E')) {
        let sign = usize::from(matches!(chars.get(i + 1), Some('+' | '-')));
        if chars.get(i + 1 + sign).is_some_and(char::is_ascii_digit) {
            i = digits(i + 1 + sign);
        }
    }
    // A second point ("1.2.3") is a malformed number, not two numbers.
    if chars.get(i) == Some(&'.') {
        return Err(CalcError::UnexpectedChar {
            ch: '.',
            pos: i + 1,
        });
    }
    Ok(i)
}

/// The error for a token found where an operator or the end was expected.
fn after_operand((tok, pos): Spanned) -> CalcError {
    match tok {
        Tok::Num(_) | Tok::Name(_) | Tok::Open => CalcError::MissingOperator {
            before: tok.to_string(),
            pos,
        },
        tok => CalcError::UnexpectedToken {
            found: tok.to_string(),
            pos,
        },
    }
}

struct Parser {
    toks: Vec<Spanned>,
    at: usize,
    depth: usize,
    /// Position just past the last character, reported when input runs out.
    end: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Spanned> {
        let tok = self.toks.get(self.at).cloned();
        self.at += usize::from(tok.is_some());
        tok
    }

    /// Consumes the next token if it is one of the operators in `ops`.
    fn eat_op(&mut self, ops: &[char]) -> Option<char> {
        match self.toks.get(self.at) {
            Some((Tok::Op(c), _)) if ops.contains(c) => {
                self.at += 1;
                Some(*c)
            }
            _ => None,
        }
    }

    /// Runs one level of recursion, refusing to go deeper than the limit.
    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, CalcError>,
    ) -> Result<T, CalcError> {
        if self.depth >= MAX_NESTING_DEPTH {
            return Err(CalcError::TooDeep);
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }

    fn expr(&mut self) -> Result<Node, CalcError> {
        self.chain(&['+', '-'], Self::term)
    }

    fn term(&mut self) -> Result<Node, CalcError> {
        self.chain(&['*', '/', '%'], Self::unary)
    }

    /// Parses `operand (op operand)*` for one precedence level.
    fn chain(
        &mut self,
        ops: &[char],
        operand: fn(&mut Self) -> Result<Node, CalcError>,
    ) -> Result<Node, CalcError> {
        let first = operand(self)?;
        let mut rest = Vec::new();
        while let Some(op) = self.eat_op(ops) {
            let op = match op {
                '+' => BinOp::Add,
                '-' => BinOp::Sub,
                '*' => BinOp::Mul,
                '/' => BinOp::Div,
                _ => BinOp::Rem,
            };
            rest.push((op, operand(self)?));
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Node::Chain(Box::new(first), rest)
        })
    }

    /// Signs sit below `^`, so `-2^2` is `-(2^2)`.
    fn unary(&mut self) -> Result<Node, CalcError> {
        match self.eat_op(&['+', '-']) {
            Some('-') => Ok(Node::Neg(Box::new(self.nested(Self::unary)?))),
            Some(_) => self.nested(Self::unary),
            None => self.power(),
        }
    }

    /// The exponent is parsed as a unary, which makes `^` right-associative
    /// and allows `2^-1`.
    fn power(&mut self) -> Result<Node, CalcError> {
        let base = self.primary()?;
        if self.eat_op(&['^']).is_none() {
            return Ok(base);
        }
        let exponent = self.nested(Self::unary)?;
        Ok(Node::Power(Box::new(base), Box::new(exponent)))
    }

    fn primary(&mut self) -> Result<Node, CalcError> {
        let Some((tok, pos)) = self.next() else {
            return Err(CalcError::UnexpectedEnd {
                expected: "a number, a name or '('",
                pos: self.end,
            });
        };
        match tok {
            Tok::Num(text) => Ok(Node::Literal(text)),
            Tok::Open => {
                let inner = self.nested(Self::expr)?;
                self.close()?;
                Ok(inner)
            }
            Tok::Name(name) => self.name(name, pos),
            tok => Err(CalcError::UnexpectedToken {
                found: tok.to_string(),
                pos,
            }),
        }
    }

    fn close(&mut self) -> Result<(), CalcError> {
        match self.next() {
            Some((Tok::Close, _)) => Ok(()),
            Some(tok) => Err(after_operand(tok)),
            None => Err(CalcError::UnexpectedEnd {
                expected: "')'",
                pos: self.end,
            }),
        }
    }

    fn name(&mut self, name: String, pos: usize) -> Result<Node, CalcError> {
        let called = matches!(self.toks.get(self.at), Some((Tok::Open, _)));
        let func = FUNCTIONS.iter().find(|(n, _)| *n == name).copied();
        match (name.as_str(), func) {
            // A constant followed by '(' is left to the caller, which reports
            // the missing operator.
            ("pi", _) => Ok(Node::Constant(Constant::Pi)),
            ("e", _) => Ok(Node::Constant(Constant::E)),
            (_, Some((fname, func))) if called => {
                self.at += 1;
                self.nested(|p| p.call(fname, func, pos))
            }
            (_, Some(_)) => Err(CalcError::NotCalled { name, pos }),
            (_, None) => Err(CalcError::UnknownName { name, pos, called }),
        }
    }

    /// Parses the arguments after the opening parenthesis of a call.
    fn call(&mut self, fname: &'static str, func: Func, pos: usize) -> Result<Node, CalcError> {
        let first = self.expr()?;
        let mut rest = Vec::new();
        loop {
            match self.next() {
                Some((Tok::Comma, _)) => rest.push(self.expr()?),
                Some((Tok::Close, _)) => break,
                Some(tok) => return Err(after_operand(tok)),
                None => {
                    return Err(CalcError::UnexpectedEnd {
                        expected: "',' or ')'",
                        pos: self.end,
                    });
                }
            }
        }
        let got = rest.len() + 1;
        if let Some(max) = func.max_args()
            && got > max
        {
            return Err(CalcError::WrongArgCount {
                func: fname,
                expected: if max == 1 {
                    "1 argument"
                } else {
                    "1 or 2 arguments"
                },
                got,
                pos,
            });
        }
        Ok(Node::Call(func, Box::new(first), rest))
    }
}
