from cartable.lib.text import ascii_fold, clean, normalise_answer


def test_ascii_fold_handles_latin9_letters():
    assert ascii_fold("BŒUF Ñúñez Ærø Łódź") == "BOEUF Nunez AEro Lodz"


def test_clean_trims_and_collapses():
    assert clean("  AGL1   ") == "AGL1"
    assert clean("Jean  \n Pierre") == "Jean Pierre"
    assert clean(None) == ""


def test_normalise_answer_ignores_case_accents_spaces():
    assert normalise_answer("  Élodie   Martin ") == normalise_answer("elodie martin")
