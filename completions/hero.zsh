
#compdef hero

_hero_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _HERO_COMPLETE=complete_zsh hero)
}

compdef _hero_completion hero

