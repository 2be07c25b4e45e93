"""A tiny word-level tokenizer for offline benchmark runs against the LLM stand-in.

AIPerf (and genai-perf) count tokens with a Hugging Face tokenizer and, given a name, download one. The LLM stand-in
counts whitespace-separated words, so a word-level tokenizer that splits on whitespace makes the client's counts
equal the server's: one word, one token (words outside the vocabulary are one [UNK] token each). Saved with
transformers' save_pretrained, so `--tokenizer <dir>` loads it with no network.

    python tests/system/tiny_tokenizer.py DIR      (needs the `tokenizers` and `transformers` packages, as in AIPerf's venv)
"""
import sys

# The stand-in's answer (tests/standin/llm_server.py) and enough plain words for synthetic prompts.
WORDS = ("the model answers with a short reply about GPU inference on our cluster and it works "
         "a an as at be by do go he if in is me my no of or so to up us we all any are but can day "
         "for get has her him his how its let man new now old one our out see two way who boy did "
         "time year good first last long great little own other right big high different small large next early young "
         "important few public bad same able point world hand part child eye woman place work week case "
         "number group problem fact light word line river heart king queen love night sun moon star sea").split()
SPECIAL = ["[UNK]", "[PAD]", "<s>", "</s>"]


def build(directory):
    """Write tokenizer.json, tokenizer_config.json and special_tokens_map.json into `directory`."""
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders  # pylint: disable=import-outside-toplevel
    from transformers import PreTrainedTokenizerFast  # pylint: disable=import-outside-toplevel

    vocab = {}
    for word in SPECIAL + WORDS:
        vocab.setdefault(word, len(vocab))
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                   bos_token="<s>", eos_token="</s>", model_max_length=1000000)
    fast.save_pretrained(directory)
    return directory


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: tiny_tokenizer.py DIR")
    build(sys.argv[1])
