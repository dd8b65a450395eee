//! Shared test helpers: config loading and a strict in-memory IPVS.
#![allow(dead_code)]

use vigil_config::{parse_text, MemoryLoader, Options};
use vigil_lvs::{Command, Table};
use vigil_model::Config;

/// Parses keepalived.conf text (strict mode, no includes).
pub fn config(text: &str) -> Config {
    match parse_text(
        "test.conf",
        text,
        &MemoryLoader::new(),
        Options {
            strict: true,
            ..Options::default()
        },
    ) {
        Ok((config, _)) => config,
        Err(d) => panic!("config refused: {d:?}"),
    }
}

/// Why [`apply`] refused a command: the order or content was unsafe.
#[derive(Debug, PartialEq, Eq)]
pub enum ApplyError {
    ServiceExists,
    NoService,
    ServiceNotEmpty,
    DestExists,
    NoDest,
    NoChange,
}

/// Applies commands the way a strict kernel would, and also refuses what
/// `diff` must never emit: deleting a service that still has destinations,
/// or an edit that changes nothing.
pub fn apply(table: &mut Table, commands: &[Command]) -> Result<(), (usize, ApplyError)> {
    for (i, c) in commands.iter().enumerate() {
        apply_one(table, c).map_err(|e| (i, e))?;
    }
    Ok(())
}

fn apply_one(t: &mut Table, c: &Command) -> Result<(), ApplyError> {
    match c {
        Command::Flush => *t = Table::new(),
        Command::AddService(s) => {
            if t.service(&s.key).is_some() {
                return Err(ApplyError::ServiceExists);
            }
            t.insert_service(s.clone());
        }
        Command::EditService(s) => match t.service(&s.key) {
            None => return Err(ApplyError::NoService),
            Some(old) if old == s => return Err(ApplyError::NoChange),
            Some(_) => {
                t.insert_service(s.clone());
            }
        },
        Command::DelService(k) => {
            if t.service(k).is_none() {
                return Err(ApplyError::NoService);
            }
            if t.dests(k).next().is_some() {
                return Err(ApplyError::ServiceNotEmpty);
            }
            t.remove_service(k);
        }
        Command::AddDest(k, d) => {
            if t.service(k).is_none() {
                return Err(ApplyError::NoService);
            }
            if t.dest(k, &d.key()).is_some() {
                return Err(ApplyError::DestExists);
            }
            t.insert_dest(k, *d).map_err(|_| ApplyError::NoService)?;
        }
        Command::EditDest(k, d) => match t.dest(k, &d.key()) {
            None => return Err(ApplyError::NoDest),
            Some(old) if old == d => return Err(ApplyError::NoChange),
            Some(_) => {
                t.insert_dest(k, *d).map_err(|_| ApplyError::NoService)?;
            }
        },
        Command::DelDest(k, dk) => {
            if t.remove_dest(k, dk).is_none() {
                return Err(ApplyError::NoDest);
            }
        }
    }
    Ok(())
}
