//! `callcoach board`: serve the supervisors' board, or manage who may connect.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use callcoach::board::server::{serve, ServeOptions};
use callcoach::board::{auth, BoardOptions, Role, Store};

use super::out_line;
use crate::cli::{BoardArgs, BoardCommand, TokenCommand};

fn data_dir(args: &BoardArgs) -> PathBuf {
    args.data.clone().unwrap_or_else(|| callcoach::asr::model::data_dir().join("board"))
}

fn role(s: &str) -> Role {
    if s == "supervisor" {
        Role::Supervisor
    } else {
        Role::Agent
    }
}

pub(super) fn run(args: &BoardArgs) -> Result<()> {
    let dir = data_dir(args);
    match &args.command {
        Some(BoardCommand::Token(TokenCommand::Add { role: r, name })) => {
            let store = Store::open(&dir)?;
            let p = store.principal(name, role(r))?;
            let token = auth::new_token()?;
            store.add_token(&p, &auth::hash_token(&token))?;
            out_line(&format!("new {} token for {} (stored hashed in {}; shown once):", p.role.as_str(), p.name, store.path().display()))?;
            out_line(&token)
        }
        Some(BoardCommand::Token(TokenCommand::Revoke { role: r, name })) => {
            let store = Store::open(&dir)?;
            let n = store.revoke_tokens(name, role(r))?;
            if n == 0 {
                bail!("{name} has no {r} token to revoke in {}", store.path().display());
            }
            out_line(&format!("revoked {n} {r} token(s) of {name}"))
        }
        Some(BoardCommand::Password { name }) => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
            let password = line.trim_end_matches(['\n', '\r']);
            if password.chars().count() < 8 {
                bail!("the password has fewer than 8 characters");
            }
            let store = Store::open(&dir)?;
            let p = store.principal(name, Role::Supervisor)?;
            store.set_password(&p, &auth::hash_password(password)?)?;
            out_line(&format!("password set for supervisor {name}"))
        }
        None => {
            let mut options = BoardOptions::new(&dir);
            options.retention_days = args.retention_days;
            options.secure_cookies = args.tls_cert.is_some();
            let tls = args.tls_cert.clone().zip(args.tls_key.clone());
            let scheme = if tls.is_some() { "https" } else { "http" };
            let nats = args.nats.clone().map(|url| callcoach::board::nats::NatsOptions {
                url,
                board_id: args.board_id.clone().unwrap_or_else(|| format!("board-{}", &auth::hash_token(&dir.display().to_string())[..12])),
                site: args.site.clone(),
            });
            serve(options, ServeOptions { listen: args.listen, tls, nats }, |addr| {
                // Scripts wait for this line to know the port (with --listen ...:0).
                println!("board listening on {scheme}://{addr} (data: {})", dir.display());
            })
            .context("running the board")
        }
    }
}
