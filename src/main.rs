use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use crypto_mcp::config::{Command, Config};
use crypto_mcp::startup::{self, Server};
use crypto_mcp::{oauth, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::try_parse() {
        Ok(config) => config,
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            // clap explains over several lines; one line naming the flag is
            // what a deploy log needs.
            let rendered = error.to_string();
            eprintln!(
                "{}",
                rendered
                    .lines()
                    .next()
                    .unwrap_or("error: invalid arguments")
            );
            return ExitCode::from(2);
        }
    };
    if let Some(Command::HashPassword) = config.command {
        return match oauth::hash_password_from_reader(std::io::stdin().lock()) {
            Ok(hash) => {
                println!("{hash}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        };
    }
    telemetry::init(config.log_format);
    let server = match Server::start(&config).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(error.exit_code());
        }
    };
    eprint!("{}", server.notice);
    match server.run(startup::shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}
