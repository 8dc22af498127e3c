"""FIM prompt formats used in training (also written to tokenizer_config.json and config.json).

SPM is the StarCoder/CodeLlama variant: the middle continues the prefix directly, with no special
token in between, so for a small model completing mid-line is next-token prediction on the prefix
with the suffix as context; it is also the layout whose changing part (the prefix's end) comes
last, which is what KV-cache reuse while typing needs.  The first training phase used Qwen's order
`<|fim_suffix|>{suffix}<|fim_prefix|>{prefix}<|fim_middle|>` for SPM (SPM_QWEN_FORMAT)."""
FIM_CONFIG = {
    'psm': True,
    'spm': True,
    'psm_format': '<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>{middle}<|endoftext|>',
    'spm_format': '<|fim_prefix|><|fim_suffix|>{suffix}<|fim_middle|>{prefix}{middle}<|endoftext|>',
    'preferred': 'spm',
    'middle_end_token': '<|endoftext|>',
    'file_separator': '<|file_sep|>',
    'file_header_format': '<|file_sep|>{path}\n{content}<|endoftext|>',
}

SPM_QWEN_FORMAT = '<|fim_suffix|>{suffix}<|fim_prefix|>{prefix}<|fim_middle|>{middle}<|endoftext|>'
