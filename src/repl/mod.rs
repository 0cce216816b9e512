//! The REPL's evaluator (`session`), its rustyline helper (completion, hints, validation) and
//! the bit of Rhai's lexical structure the helper needs. The terminal loop is `commands::repl`.

pub mod helper;
pub mod lexer;
pub mod session;
