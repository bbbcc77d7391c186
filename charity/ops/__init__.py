"""Operations: background jobs, mail and receipt mail, metrics, structured logs."""
