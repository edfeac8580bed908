//! E-Akte (records): the file plan, files, cases and documents. Work in progress.
