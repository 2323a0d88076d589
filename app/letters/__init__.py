"""Decision letters: a letter to the person for each effective decision and each decided
reconsideration, written in the command's transaction and rendered as a bilingual-capable PDF.
Never imports the immigration compartment or the intake (an import contract says so)."""
