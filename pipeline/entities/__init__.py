"""Named-entity recognition: our HanLP char BiLSTM-CRF model trained on MSRA."""
